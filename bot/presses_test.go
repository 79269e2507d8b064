package bot

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// answers records the callback queries answered.
type answers struct {
	mu  sync.Mutex
	ids []string
}

func (a *answers) Do(_ context.Context, req telegram.Request, _ any) error {
	if q, ok := req.(telegram.AnswerCallbackQuery); ok {
		a.mu.Lock()
		a.ids = append(a.ids, q.ID)
		a.mu.Unlock()
	}
	return nil
}

func (a *answers) count(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, x := range a.ids {
		if x == id {
			n++
		}
	}
	return n
}

// TestPressAnsweredOnce: a press whose handler does not answer in time (it waits
// behind its chat's earlier updates) is answered by the arrival timer; one whose
// handler answers first is not answered again; each is answered once.
func TestPressAnsweredOnce(t *testing.T) {
	tg := &answers{}
	b := New(Params{Telegram: tg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	press := func(id string) telegram.Update {
		return telegram.Update{UpdateID: 1, CallbackQuery: &telegram.CallbackQuery{ID: id, From: telegram.User{ID: 5}}}
	}
	b.Arrived(context.Background(), press("slow"))
	deadline := time.Now().Add(10 * time.Second)
	for tg.count("slow") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a press nobody answered was not answered by the timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := &request{ctx: context.Background(), b: b, log: b.p.Logger, cb: press("slow").CallbackQuery}
	r.answerCallback("too late", true)
	if n := tg.count("slow"); n != 1 {
		t.Errorf("slow press answered %d times, want 1", n)
	}

	b.Arrived(context.Background(), press("quick"))
	r = &request{ctx: context.Background(), b: b, log: b.p.Logger, cb: press("quick").CallbackQuery}
	r.answerCallback("done", false)
	b.presses.forget("quick")
	if n := tg.count("quick"); n != 1 {
		t.Errorf("quick press answered %d times, want 1", n)
	}
	b.presses.mu.Lock()
	left := len(b.presses.m)
	b.presses.mu.Unlock()
	if left != 1 { // "slow" is forgotten only when its handler finishes
		t.Errorf("%d presses remembered, want 1", left)
	}
}

// alerts records the texts of the callback queries answered.
type alerts struct {
	mu    sync.Mutex
	texts map[string]string
}

func (a *alerts) Do(_ context.Context, req telegram.Request, _ any) error {
	if q, ok := req.(telegram.AnswerCallbackQuery); ok {
		a.mu.Lock()
		a.texts[q.ID] = q.Text
		a.mu.Unlock()
	}
	return nil
}

// TestAnswersArePlainText: Telegram shows the answer to a press unformatted, so
// the bot's HTML goes as plain text, names as typed, within 200 characters,
// and a long name is shortened rather than the words after it.
func TestAnswersArePlainText(t *testing.T) {
	tg := &alerts{texts: map[string]string{}}
	b := New(Params{Telegram: tg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	name := `Lê Thị <b>Hoa</b> & "Co"`
	long := strings.Repeat("😀", 100) // 200 UTF-16 code units
	coming := answerLabel(texts.EN, cell.Answer{Kind: cell.Coming})
	tests := []struct {
		name   string
		lang   string
		text   func(r *request) string
		want   string // the whole text, or with suffix its end
		suffix bool
	}{
		{"a name taken, as self.go wrote it", texts.VI,
			func(r *request) string { return r.t(texts.JoinNameTaken, texts.Escape(name)) },
			`Tên Lê Thị <b>Hoa</b> & "Co" đã gắn với một tài khoản Telegram khác. Xin liên hệ bí thư chi bộ.`, false},
		{"a name taken", texts.EN,
			func(r *request) string { return r.alertWithName(texts.JoinNameTaken, name) },
			`The name Lê Thị <b>Hoa</b> & "Co" is already linked to another Telegram account. Please contact the secretary.`, false},
		{"a long name taken", texts.VI,
			func(r *request) string { return r.alertWithName(texts.JoinNameTaken, long) },
			"… đã gắn với một tài khoản Telegram khác. Xin liên hệ bí thư chi bộ.", true},
		{"an answer recorded for a member", texts.EN,
			func(r *request) string { return r.alertWithName(texts.CardAnswered, name, coming) },
			`Recorded for Lê Thị <b>Hoa</b> & "Co": ` + coming, false},
		{"a long name answered for", texts.EN,
			func(r *request) string { return r.alertWithName(texts.CardAnswered, long, coming) },
			"…: " + coming, true},
		{"a long text", texts.VI,
			func(*request) string { return "<b>" + strings.Repeat("a", 300) + "</b>" },
			strings.Repeat("a", 199) + "…", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "q" + strconv.Itoa(i)
			r := &request{ctx: context.Background(), b: b, log: b.p.Logger, lang: tt.lang,
				cb: &telegram.CallbackQuery{ID: id, From: telegram.User{ID: 5}}}
			r.answerCallback(tt.text(r), true)
			tg.mu.Lock()
			got := tg.texts[id]
			tg.mu.Unlock()
			if n := texts.Len(got); n > texts.MaxAlert {
				t.Errorf("answer is %d long: %q", n, got)
			}
			if tt.suffix && !strings.HasSuffix(got, tt.want) || !tt.suffix && got != tt.want {
				t.Errorf("answer = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPressAnsweredOnceAcrossARestart: a press answered on arrival by a process
// that then died comes again with its update to the process that takes over;
// that one does not answer it a second time (Telegram would refuse it as too
// old), whether by its arrival timer or by the handler.
func TestPressAnsweredOnceAcrossARestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	store := storage.New(rdb, "")
	tg := &answers{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// An RSVP press in a private chat: answered the moment it arrives.
	u := telegram.Update{UpdateID: 9, CallbackQuery: &telegram.CallbackQuery{ID: "q9", From: telegram.User{ID: 5},
		Data:    buttonVersion + ":" + verbRSVP + ":1:1:y",
		Message: &telegram.Message{MessageID: 3, Chat: telegram.Chat{ID: 5, Type: telegram.ChatPrivate}}}}
	answered := func(b *Bot) bool {
		b.presses.mu.Lock()
		defer b.presses.mu.Unlock()
		pr := b.presses.m["q9"]
		return pr != nil && pr.answered
	}
	for i, b := range []*Bot{
		New(Params{Store: store, Telegram: tg, Logger: logger}), // the first process
		New(Params{Store: store, Telegram: tg, Logger: logger}), // the one that takes over
	} {
		b.Arrived(context.Background(), u)
		deadline := time.Now().Add(10 * time.Second)
		for !answered(b) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d did not deal with the press", i+1)
			}
			time.Sleep(2 * time.Millisecond)
		}
		r := &request{ctx: context.Background(), b: b, log: logger, cb: u.CallbackQuery}
		r.answerCallback("✅", false)
		if i == 0 {
			// The first process's answer is given (its record is made before
			// it): whatever the second does from here, it finds the record.
			for tg.count("q9") == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the first process did not answer the press")
				}
				time.Sleep(2 * time.Millisecond)
			}
		} else if err := b.answerPress(context.Background(), telegram.AnswerCallbackQuery{ID: "q9"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := tg.count("q9"); n != 1 {
		t.Errorf("the press was answered %d times, want once", n)
	}
}
