package app_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellbot/cellbot/storage"
)

func b36(n int64) string { return strconv.FormatInt(n, 36) }

// TestCraftedButtonsAreRefused: callback data is user input. A member (or someone
// joining) who sends made-up button data is refused and nothing changes.
func TestCraftedButtonsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.answerWithin = 5 * time.Second // the refusals are read in the answers
	e.start()
	cs := importedCell(t, e, []byte(smallRoster), 4)
	member := e.srv.User("Hoa")
	joinAs(t, member, cs.secretary, cs.payload, "Lê Thị Hoa")
	before := rosterByName(t, e, cs.cell.ID)
	an := before["Nguyễn Văn An"]
	sec := before["Nguyễn Thị Lan"]
	c := b36(cs.cell.ID)

	answers := func() []string {
		var out []string
		for _, r := range e.srv.Requests("answerCallbackQuery") {
			out = append(out, r.Params["text"])
		}
		return out
	}
	tests := []struct {
		name, data, want string
	}{
		{"set participation", "1:ms:" + c + ":" + b36(an.ID) + ":1", "chỉ dành cho chi ủy"},
		{"promote", "1:mr:" + c + ":" + b36(an.ID) + ":1", "chỉ dành cho bí thư"},
		{"open a card", "1:mc:" + c + ":" + b36(sec.ID), "chỉ dành cho chi ủy"},
		{"confirm own join", "1:jc:" + c + ":" + b36(member.ID()), "chỉ dành cho chi ủy"},
		{"unknown verb", "1:zz:1", "Nút này đã cũ"},
		{"other version", "9:ms:1:2:3", "Nút này đã cũ"},
		{"garbage", "hello world", "Nút này đã cũ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(answers())
			member.PressData(tt.data)
			e.srv.WaitUntil(func() bool { return len(answers()) > n })
			if got := answers()[n]; !strings.Contains(got, tt.want) {
				t.Errorf("answer = %q, want %q", got, tt.want)
			}
		})
	}

	// Someone joining cannot claim an entry the name they typed did not offer,
	// such as the secretary's.
	stranger := e.srv.User("Lạ")
	stranger.Start(cs.payload)
	stranger.WaitMessage("họ và tên")
	stranger.Send("Trần Văn An")
	stranger.WaitMessage("Xin chọn đúng tên")
	n := len(answers())
	stranger.PressData("1:jp:" + c + ":" + b36(an.ID))
	e.srv.WaitUntil(func() bool { return len(answers()) > n })
	if got := answers()[n]; !strings.Contains(got, "Nút này đã cũ") {
		t.Errorf("claiming an entry not offered: answer %q", got)
	}
	if _, err := e.store.JoinRequestOf(context.Background(), cs.cell.ID, stranger.ID()); err != storage.ErrNotPending {
		t.Errorf("a join request was recorded for an entry not offered: %v", err)
	}
	e.srv.WaitIdle()
	after := rosterByName(t, e, cs.cell.ID)
	if !sameRoster(before, after, "") {
		t.Errorf("crafted buttons changed the roster:\nbefore %v\nafter  %v", before, after)
	}
}
