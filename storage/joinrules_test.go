package storage_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

var noticeLimit = storage.NoticeLimit{N: 3, Per: 24 * time.Hour}

// importTwo imports two unlisted-free entries into a cell: Trần Văn Bình (2),
// promoted to deputy before anyone linked it, and Lê Thị Hoa (3).
func importTwo(t *testing.T, s *storage.Store, cellID int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.ImportMembers(ctx, cellID, []cell.Member{
		{Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Regular},
		{Name: "Lê Thị Hoa", Standing: cell.Official, Participation: cell.Regular},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMember(ctx, cellID, 2, func(m *cell.Member) error { m.Role = cell.RoleDeputy; return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestRequestJoinRules: one pending request per user and cell, a repeat returns
// it and records nothing; a claim needs an unlinked entry, a new name must be
// no entry's; the committee's notices of one user are limited.
func TestRequestJoinRules(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1301) // secretary Nguyễn Thị Lan, user 100
	importTwo(t, s, c.ID)

	tests := []struct {
		name string
		req  storage.JoinRequest
		want error
	}{
		{"claims the secretary's entry", storage.JoinRequest{UserID: 501, MemberID: 1, Name: "Nguyễn Thị Lan"}, storage.ErrMemberLinked},
		{"claims an entry that is not there", storage.JoinRequest{UserID: 501, MemberID: 99, Name: "Không Có"}, storage.ErrNotFound},
		{"a new name that is the secretary's", storage.JoinRequest{UserID: 501, Name: "nguyễn thị  LAN"}, storage.ErrNameListed},
		{"a new name that is an unlinked entry's, decomposed", storage.JoinRequest{UserID: 501, Name: "Tra\u0302\u0300n Va\u0306n Bi\u0300nh"}, storage.ErrNameListed},
		{"the secretary asks to join her own cell", storage.JoinRequest{UserID: 100, Name: "Người Khác"}, storage.ErrUserLinked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.RequestJoin(ctx, c.ID, tt.req, noticeLimit)
			if !errors.Is(err, tt.want) {
				t.Errorf("RequestJoin = %+v, %v; want %v", got, err, tt.want)
			}
			if _, err := s.JoinRequestOf(ctx, c.ID, tt.req.UserID); !errors.Is(err, storage.ErrNotPending) {
				t.Errorf("a refused request is pending: %v", err)
			}
		})
	}

	first := storage.JoinRequest{UserID: 501, MemberID: 3, Name: "Lê Thị Hoa", At: 1}
	got, err := s.RequestJoin(ctx, c.ID, first, noticeLimit)
	if err != nil || !got.Made || !got.Notify {
		t.Fatalf("first request = %+v, %v", got, err)
	}
	// Repeats, the same or another claim, return the pending one.
	for i, again := range []storage.JoinRequest{first, {UserID: 501, Name: "Tên Khác", At: 2}, {UserID: 501, MemberID: 2, Name: "Trần Văn Bình", At: 3}} {
		got, err := s.RequestJoin(ctx, c.ID, again, noticeLimit)
		if err != nil || got.Made || got.Notify || got.Request.At != 1 || got.Request.MemberID != 3 {
			t.Errorf("repeat %d = %+v, %v; want the pending request, nothing made", i, got, err)
		}
	}
	// Withdrawn and made again: notices up to the limit, then the requests
	// wait without one.
	var notified int
	for at := int64(1); at <= 6; at++ {
		if ok, err := s.WithdrawJoin(ctx, c.ID, 501, at); err != nil || !ok {
			t.Fatalf("withdraw %d: %v, %v", at, ok, err)
		}
		got, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 501, MemberID: 3, Name: "Lê Thị Hoa", At: at + 1}, noticeLimit)
		if err != nil || !got.Made {
			t.Fatalf("request %d = %+v, %v", at+1, got, err)
		}
		if got.Notify {
			notified++
		}
	}
	if notified != noticeLimit.N-1 { // the first request had one
		t.Errorf("%d more notices, want %d", notified, noticeLimit.N-1)
	}
}

// TestConfirmJoinNeverPassesRights: a confirmed join links the account as a
// plain member, whatever rights the entry had; an entry linked meanwhile is not
// taken over; a new name that became an entry's is not linked to it.
func TestConfirmJoinNeverPassesRights(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1302)
	importTwo(t, s, c.ID)

	if _, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 601, MemberID: 2, Name: "Trần Văn Bình", At: 1}, noticeLimit); err != nil {
		t.Fatal(err)
	}
	j, err := s.ConfirmJoinRequest(ctx, c.ID, 601, 1)
	if err != nil {
		t.Fatal(err)
	}
	if j.Rights != cell.RoleDeputy || j.Member.Role != cell.RoleMember || j.Member.UserID != 601 || j.Added {
		t.Errorf("joined = %+v; want the entry linked as a plain member, its deputy's rights reported", j)
	}
	if m, err := s.Member(ctx, c.ID, 2); err != nil || m.Role != cell.RoleMember || m.UserID != 601 {
		t.Errorf("entry after the join = %+v, %v", m, err)
	}

	// Hoa's entry is claimed, then linked to another account before the
	// committee confirms (as a confirmation of another request would).
	if _, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 602, MemberID: 3, Name: "Lê Thị Hoa", At: 2}, noticeLimit); err != nil {
		t.Fatal(err)
	}
	if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 603, MemberID: 3, Name: "Lê Thị Hoa", At: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmJoin(ctx, c.ID, 603); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmJoinRequest(ctx, c.ID, 602, 2); !errors.Is(err, storage.ErrMemberLinked) {
		t.Errorf("confirming a claim of an entry linked since: %v, want ErrMemberLinked", err)
	}
	if m, _ := s.MemberByUser(ctx, c.ID, 603); m.ID != 3 {
		t.Errorf("the entry was taken over: %+v", m)
	}

	// A new name, then the same name imported: confirming does not link the
	// stranger to the imported entry; the request is dropped.
	if _, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 604, Name: "Phạm Văn Đức", At: 4}, noticeLimit); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportMembers(ctx, c.ID, []cell.Member{{Name: "Phạm Văn Đức", Standing: cell.Official, Participation: cell.Regular}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmJoinRequest(ctx, c.ID, 604, 4); !errors.Is(err, storage.ErrNameListed) {
		t.Errorf("confirming a new name imported since: %v, want ErrNameListed", err)
	}
	if _, err := s.JoinRequestOf(ctx, c.ID, 604); !errors.Is(err, storage.ErrNotPending) {
		t.Errorf("the request is still pending: %v", err)
	}
	if _, err := s.MemberByUser(ctx, c.ID, 604); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the stranger was linked: %v", err)
	}
}

// TestConfirmJoinWhileTheEntryChanges: the committee changes the entry while a
// confirmation of its claim runs: both land, neither undoes the other.
func TestConfirmJoinWhileTheEntryChanges(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1303)
	importTwo(t, s, c.ID)
	if _, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 701, MemberID: 3, Name: "Lê Thị Hoa", At: 1}, noticeLimit); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var confirmErr error
	wg.Go(func() { _, confirmErr = s.ConfirmJoin(ctx, c.ID, 701) })
	for i := range 50 {
		wg.Go(func() {
			_, _ = s.UpdateMember(ctx, c.ID, 3, func(m *cell.Member) error { m.Reason = "r" + strconv.Itoa(i); return nil })
		})
	}
	wg.Go(func() {
		_, _ = s.UpdateMember(ctx, c.ID, 3, func(m *cell.Member) error { m.Participation = cell.Exempt; return nil })
	})
	wg.Wait()
	if confirmErr != nil {
		t.Fatal(confirmErr)
	}
	m, err := s.Member(ctx, c.ID, 3)
	if err != nil || m.UserID != 701 || m.Participation != cell.Exempt {
		t.Errorf("entry = %+v, %v; want linked and exempt", m, err)
	}
}

// TestUserKeptWhileMemberOrWaiting: the hash of a user who writes to the bot
// expires UserTTL after their last update unless they belong to a cell or wait
// to join one; joining or asking to join keeps it, leaving every cell or having
// every request settled gives the TTL back. Read from the key's PTTL after each
// step.
func TestUserKeptWhileMemberOrWaiting(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	ctx := context.Background()
	k := s.Keys()
	c := newCell(t, s, -1304)
	other := newCell(t, s, -1305)
	importTwo(t, s, c.ID)
	const u = 801
	start := func(n int) {
		t.Helper()
		if _, err := s.StartUpdate(ctx, storage.UpdateStart{Key: "ttl-" + strconv.Itoa(n), Token: "tok", Lease: time.Minute, UserID: u, ChatID: u}); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const kept, expiring = true, false
	steps := []struct {
		name string
		do   func()
		kept bool
		cell int64 // the user's current cell after the step, 0 none
	}{
		{"opens the bot", func() { must(s.SetOpened(ctx, u, "")) }, expiring, 0},
		{"chooses a language", func() { must(s.SetUserLang(ctx, u, "en")) }, expiring, 0},
		{"asks to join", func() {
			_, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: u, MemberID: 3, Name: "Lê Thị Hoa", At: 1}, noticeLimit)
			must(err)
		}, kept, 0},
		{"writes while waiting", func() { start(1) }, kept, 0},
		{"is declined", func() { _, err := s.RejectJoinAt(ctx, c.ID, u, 1); must(err) }, expiring, 0},
		{"asks again", func() {
			_, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: u, MemberID: 3, Name: "Lê Thị Hoa", At: 2}, noticeLimit)
			must(err)
		}, kept, 0},
		{"withdraws", func() { _, err := s.WithdrawJoin(ctx, c.ID, u, 2); must(err) }, expiring, 0},
		{"asks once more", func() {
			_, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: u, MemberID: 3, Name: "Lê Thị Hoa", At: 3}, noticeLimit)
			must(err)
		}, kept, 0},
		{"is confirmed", func() { _, err := s.ConfirmJoin(ctx, c.ID, u); must(err) }, kept, c.ID},
		{"writes as a member", func() { start(2) }, kept, c.ID},
		{"joins another cell", func() { must(s.AddUserCell(ctx, u, other.ID)) }, kept, other.ID},
		{"leaves that cell", func() { must(s.LeaveUserCell(ctx, u, other.ID)) }, kept, c.ID},
		{"leaves the last cell", func() { must(s.LeaveUserCell(ctx, u, c.ID)) }, expiring, 0},
	}
	for _, st := range steps {
		// The TTL shortened as by time passing: an update renews it.
		if rdb.PTTL(ctx, k.User(u)).Val() > 0 {
			must(rdb.PExpire(ctx, k.User(u), time.Hour).Err())
		}
		st.do()
		ttl := rdb.PTTL(ctx, k.User(u)).Val()
		switch {
		case st.kept && ttl != -1:
			t.Errorf("%s: PTTL %v, want kept (-1)", st.name, ttl)
		case !st.kept && (ttl <= time.Hour || ttl > storage.UserTTL):
			t.Errorf("%s: PTTL %v, want within (1h, %v]", st.name, ttl, storage.UserTTL)
		}
		if got, err := s.UserCell(ctx, u); err != nil || got != st.cell {
			t.Errorf("%s: current cell %d, %v; want %d", st.name, got, err, st.cell)
		}
	}
	// A passer-by's update renews their TTL; it gives a member none.
	must(rdb.PExpire(ctx, k.User(u), time.Hour).Err())
	start(3)
	if ttl := rdb.PTTL(ctx, k.User(u)).Val(); ttl <= time.Hour {
		t.Errorf("after an update a passer-by's PTTL is %v, want renewed to %v", ttl, storage.UserTTL)
	}
	if ttl := rdb.PTTL(ctx, k.User(100)).Val(); ttl != -1 {
		t.Errorf("the secretary's PTTL is %v, want kept (-1)", ttl)
	}
	if _, err := s.StartUpdate(ctx, storage.UpdateStart{Key: "ttl-x", Token: "tok", Lease: time.Minute, UserID: 999, ChatID: 999}); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, k.User(999)).Val(); n != 0 {
		t.Error("an update made a hash for a user the bot knows nothing of")
	}
}
