package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
	"github.com/redis/go-redis/v9"
)

func newRosterStore(t *testing.T) *storage.Store {
	t.Helper()
	rdb, prefix := testenv.RedisEnv(t)
	return storage.New(rdb, prefix)
}

func newCell(t *testing.T, s *storage.Store, chatID int64) cell.Cell {
	t.Helper()
	c, _, err := s.CreateCell(context.Background(), cell.Cell{Name: "Chi bộ 3", ChatID: chatID, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi", Quiet: cell.DefaultQuiet},
		cell.Member{Name: "Nguyễn Thị Lan", UserID: 100})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRosterCreateCellOncePerGroup(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1001)
	again, _, err := s.CreateCell(ctx, cell.Cell{Name: "Other", ChatID: -1001}, cell.Member{Name: "X", UserID: 7})
	if !errors.Is(err, storage.ErrAlreadyBound) || again.ID != c.ID {
		t.Fatalf("second /setup: cell %d, err %v; want cell %d and ErrAlreadyBound", again.ID, err, c.ID)
	}
	byLink, err := s.CellByJoinToken(ctx, c.JoinToken)
	if err != nil || byLink.ID != c.ID || byLink.Name != "Chi bộ 3" {
		t.Fatalf("cell by join token = %+v, %v", byLink, err)
	}
	sec, err := s.MemberByUser(ctx, c.ID, 100)
	if err != nil || sec.Role != cell.RoleSecretary {
		t.Fatalf("secretary = %+v, %v", sec, err)
	}
	if id, _ := s.UserCell(ctx, 100); id != c.ID {
		t.Errorf("secretary's cell = %d, want %d", id, c.ID)
	}
}

// TestRosterImportUpdatesByIdentity: a line updates the member whose name has
// the same identity (case and spacing ignored, marks kept); /setup's unlisted
// record for the secretary becomes their entry.
func TestRosterImportUpdatesByIdentity(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1002)
	res, err := s.ImportMembers(ctx, c.ID, []cell.Member{
		{Name: "NGUYỄN THỊ LAN", Standing: cell.Official, Participation: cell.Regular}, // the secretary, in capitals
		{Name: "Trần Văn Bình", Standing: cell.Probationary, Participation: cell.Regular},
		{Name: "Lê Thị Hoa", Standing: cell.Official, Participation: cell.Away, Until: "2027-01-01", Reason: "đi xa"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res != (storage.ImportResult{Added: 2, Updated: 1}) {
		t.Errorf("first import = %+v", res)
	}
	res, err = s.ImportMembers(ctx, c.ID, []cell.Member{{Name: "trần  văn bình", Standing: cell.Official, Participation: cell.Exempt}})
	if err != nil || res != (storage.ImportResult{Updated: 1}) {
		t.Fatalf("re-import = %+v, %v", res, err)
	}
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("roster has %d members, want 3", len(ms))
	}
	if ms[0].Name != "Nguyễn Thị Lan" || ms[0].Role != cell.RoleSecretary || ms[0].UserID != 100 {
		t.Errorf("secretary after import = %+v", ms[0])
	}
	if ms[1].Name != "Trần Văn Bình" || ms[1].Participation != cell.Exempt || ms[1].Standing != cell.Official {
		t.Errorf("re-imported member = %+v", ms[1])
	}
}

func TestRosterConfirmJoinOnce(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1003)
	if _, err := s.ImportMembers(ctx, c.ID, []cell.Member{{Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Regular}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 200, Name: "Trần Văn Bình", MemberID: 2}); err != nil {
		t.Fatal(err)
	}
	// Committee members press "confirm" at once: one wins; the others learn it
	// was settled (no longer pending, or the account already linked).
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = s.ConfirmJoin(ctx, c.ID, 200) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, storage.ErrNotPending) && !errors.Is(err, storage.ErrUserLinked):
			t.Errorf("confirm: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d confirmations succeeded, want 1", ok)
	}
	m, err := s.MemberByUser(ctx, c.ID, 200)
	if err != nil || m.ID != 2 {
		t.Fatalf("linked member = %+v, %v", m, err)
	}
	// A new name becomes a new member; a second account cannot take a linked entry.
	if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 300, Name: "Đinh Văn Tư"}); err != nil {
		t.Fatal(err)
	}
	nm, err := s.ConfirmJoin(ctx, c.ID, 300)
	if err != nil || nm.ID != 3 || nm.Name != "Đinh Văn Tư" {
		t.Fatalf("new member = %+v, %v", nm, err)
	}
	if err := s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 400, Name: "Trần Văn Bình", MemberID: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmJoin(ctx, c.ID, 400); !errors.Is(err, storage.ErrMemberLinked) {
		t.Errorf("second account on a linked entry: %v, want ErrMemberLinked", err)
	}
}

func TestRosterSurvivesRedisRestart(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	s := storage.New(rdb, "")
	ctx := context.Background()
	c := newCell(t, s, -1004)
	if _, err := s.ImportMembers(ctx, c.ID, []cell.Member{{Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Exempt}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserLang(ctx, 100, "en"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Members(ctx, c.ID)
	if err != nil || len(ms) != 2 || ms[1].Participation != cell.Exempt {
		t.Fatalf("roster after restart = %+v, %v", ms, err)
	}
	if lang, _ := s.UserLang(ctx, 100); lang != "en" {
		t.Errorf("language after restart = %q", lang)
	}
	if got, err := s.CellByChat(ctx, -1004); err != nil || got.ID != c.ID {
		t.Errorf("cell after restart = %+v, %v", got, err)
	}
}

func TestRosterUpdateClaims(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	state, err := s.ClaimUpdate(ctx, "42-a", "t1", 60e9)
	if err != nil || state != storage.UpdateClaimed {
		t.Fatalf("first claim = %d, %v", state, err)
	}
	if state, _ := s.ClaimUpdate(ctx, "42-a", "t1", 60e9); state != storage.UpdateInProgress {
		t.Errorf("claim while held = %d, want in progress", state)
	}
	if err := s.ReleaseUpdate(ctx, "42-a", "t1"); err != nil {
		t.Fatal(err)
	}
	if state, _ := s.ClaimUpdate(ctx, "42-a", "t1", 60e9); state != storage.UpdateClaimed {
		t.Errorf("claim after release = %d, want claimed", state)
	}
	if err := s.FinishUpdate(ctx, "42-a", 3600e9); err != nil {
		t.Fatal(err)
	}
	if state, _ := s.ClaimUpdate(ctx, "42-a", "t1", 60e9); state != storage.UpdateDone {
		t.Errorf("claim after finish = %d, want done", state)
	}
}
