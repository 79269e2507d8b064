package storage_test

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestStartUpdate: the claim and the sender's language, cell and member record
// read as an update starts, for each way an update names its cell.
func TestStartUpdate(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	a := newCell(t, s, -1001) // its secretary is user 100
	b, _, err := s.CreateCell(ctx, cell.Cell{Name: "Chi bộ 5", ChatID: -1002, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
		cell.Member{Name: "Trần Văn Bình", UserID: 200})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserLang(ctx, 100, "en"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		u      storage.UpdateStart
		cell   int64 // 0: none
		member string
		lang   string
	}{
		{"private: the sender's own cell", storage.UpdateStart{UserID: 100, ChatID: 100}, a.ID, "Nguyễn Thị Lan", "en"},
		{"a button naming another cell", storage.UpdateStart{UserID: 100, ChatID: 100, CellID: b.ID}, b.ID, "", "en"},
		{"a button naming the sender's cell", storage.UpdateStart{UserID: 200, ChatID: 200, CellID: b.ID}, b.ID, "Trần Văn Bình", ""},
		{"a group: the group's cell", storage.UpdateStart{UserID: 100, ChatID: -1002, GroupChatID: -1002}, b.ID, "", "en"},
		{"a group not bound", storage.UpdateStart{UserID: 100, ChatID: -1009, GroupChatID: -1009}, 0, "", "en"},
		{"a button naming no cell there is", storage.UpdateStart{UserID: 100, ChatID: 100, CellID: 999}, 0, "", "en"},
		{"a stranger", storage.UpdateStart{UserID: 300, ChatID: 300}, 0, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.u.Key, tt.u.Token, tt.u.Lease = "start-"+strconv.Itoa(i), "tok", time.Minute
			st, err := s.StartUpdate(ctx, tt.u)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != storage.UpdateClaimed {
				t.Fatalf("state = %d, want claimed", st.State)
			}
			var gotCell int64
			if st.Actor.Cell != nil {
				gotCell = st.Actor.Cell.ID
			}
			var gotMember string
			if st.Actor.Member != nil {
				gotMember = st.Actor.Member.Name
			}
			if gotCell != tt.cell || gotMember != tt.member || st.Actor.Lang != tt.lang {
				t.Errorf("cell %d, member %q, lang %q; want %d, %q, %q", gotCell, gotMember, st.Actor.Lang, tt.cell, tt.member, tt.lang)
			}
			if st.RepliesQueued {
				t.Error("a reply reported queued when none is")
			}
			again, err := s.StartUpdate(ctx, tt.u)
			if err != nil || again.State != storage.UpdateInProgress {
				t.Errorf("second start = %d, %v; want in progress", again.State, err)
			}
			if again.Actor.Cell != nil {
				t.Error("an update held elsewhere read its actor")
			}
		})
	}

	// A reply waiting in the queue for the chat is reported with the claim.
	if _, err := s.Enqueue(ctx, time.Now(), []storage.QueueEntry{{ID: "reply:9", To: storage.QueueRecipient{ChatID: 100},
		Priority: storage.PriorityUrgent, Parts: []json.RawMessage{json.RawMessage(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	st, err := s.StartUpdate(ctx, storage.UpdateStart{Key: "start-q", Token: "t", Lease: time.Minute, UserID: 100, ChatID: 100})
	if err != nil || !st.RepliesQueued {
		t.Errorf("queued reply not reported: %+v, %v", st, err)
	}
	if err := s.FinishUpdate(ctx, "start-q", time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, err := s.StartUpdate(ctx, storage.UpdateStart{Key: "start-q", Token: "u", Lease: time.Minute, UserID: 100, ChatID: 100}); err != nil || st.State != storage.UpdateDone {
		t.Errorf("start of a finished update = %d, %v; want done", st.State, err)
	}
}

// TestScriptsForgotten: after a Redis restart or SCRIPT FLUSH, the scripts
// sent in pipelines by their SHA1 are sent again, and nothing is lost.
func TestScriptsForgotten(t *testing.T) {
	srv := testenv.StartRedis(t) // its own server: the flush must not touch other tests
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	s := storage.New(rdb, "")
	ctx := context.Background()
	if err := s.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	c := newCell(t, s, -1001)
	m, _, err := s.CreateMeeting(ctx, "t", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for round, flush := range []bool{false, true} {
		if flush {
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		key := "flush-" + strconv.Itoa(round)
		st, err := s.StartUpdate(ctx, storage.UpdateStart{Key: key, Token: "t", Lease: time.Minute, UserID: 100, ChatID: 100})
		if err != nil || st.State != storage.UpdateClaimed || st.Actor.Member == nil {
			t.Fatalf("start (flushed %v) = %+v, %v", flush, st, err)
		}
		kind := []cell.AnswerKind{cell.Coming, cell.Unsure}[round]
		if _, err := s.Answer(ctx, c.ID, m.ID, cell.Answer{MemberID: st.Actor.Member.ID, Kind: kind}, time.Now()); err != nil {
			t.Fatalf("answer (flushed %v): %v", flush, err)
		}
		got, err := s.Answers(ctx, c.ID, m.ID)
		if err != nil || got[st.Actor.Member.ID].Kind != kind {
			t.Errorf("answers (flushed %v) = %v, %v", flush, got, err)
		}
		claims, err := s.ClaimCounts(ctx, time.Minute, 10)
		if err != nil || len(claims) != 1 || claims[0].MeetingID != m.ID {
			t.Errorf("counts not marked with the answer (flushed %v): %+v, %v", flush, claims, err)
		}
		for _, cl := range claims {
			if err := s.DoneCounts(ctx, cl, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestTelegramLangKept: an update keeps its sender's Telegram language for a
// user the bot keeps, and creates nothing for a stranger; a language chosen
// with /lang comes first.
func TestTelegramLangKept(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	newCell(t, s, -1001) // its secretary, user 100, is kept
	start := func(user int64, lang string) {
		t.Helper()
		key := "upd:" + strconv.FormatInt(user, 10) + ":" + lang + ":" + strconv.FormatInt(time.Now().UnixNano(), 10)
		if _, err := s.StartUpdate(ctx, storage.UpdateStart{Key: key, Token: "t", Lease: time.Minute, UserID: user, ChatID: user, TelegramLang: lang}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		do   func()
		want map[int64]string
	}{
		{"a member writes from an English Telegram", func() { start(100, "en") }, map[int64]string{100: "en"}},
		{"a stranger writes from an English Telegram", func() { start(900, "en") }, map[int64]string{100: "en"}},
		{"an update that does not say", func() { start(100, "") }, map[int64]string{100: "en"}},
		{"the member's Telegram is Vietnamese again", func() { start(100, storage.NoTelegramLang) }, map[int64]string{}},
		{"a stranger opens the bot from an English Telegram", func() {
			if err := s.SetOpened(ctx, 900, "en"); err != nil {
				t.Fatal(err)
			}
		}, map[int64]string{900: "en"}},
		{"/lang beats Telegram", func() {
			start(100, "en")
			if err := s.SetUserLang(ctx, 100, "vi"); err != nil {
				t.Fatal(err)
			}
		}, map[int64]string{100: "vi", 900: "en"}},
	}
	for _, st := range steps {
		st.do()
		got, err := s.UserLangs(ctx, []int64{100, 900})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, st.want) {
			t.Errorf("%s: languages %v, want %v", st.name, got, st.want)
		}
	}
}
