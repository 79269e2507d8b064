package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
	"github.com/google/go-cmp/cmp"
)

func line(name string) cell.Member {
	return cell.Member{Name: name, Standing: cell.Official, Participation: cell.Regular}
}

// TestNamesakesAreTwoMembers: names that differ only in their marks are two
// people; a re-import finds each by its own name.
func TestNamesakesAreTwoMembers(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c := newCell(t, s, -1101)
	in := []cell.Member{line("Nguyễn Văn An"), line("Nguyễn Văn Ân"), line("Lê Văn Tư"), line("Lê Văn Từ")}
	res, err := s.ImportMembers(ctx, c.ID, in)
	if err != nil || res.Added != 4 {
		t.Fatalf("import = %+v, %v; want 4 added", res, err)
	}
	// Decomposed marks, other case: the same four people.
	again := []cell.Member{line("NGUYỄN VĂN AN"), line("Nguye\u0302\u0303n Va\u0306n A\u0302n"), line("lê văn tư"), line("Le\u0302 Va\u0306n Tu\u031b\u0300")}
	again[1].Participation = cell.Exempt
	res, err = s.ImportMembers(ctx, c.ID, again)
	if err != nil || res.Updated != 4 || res.Added != 0 {
		t.Fatalf("re-import = %+v, %v; want 4 updated", res, err)
	}
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cell.Participation{}
	for _, m := range ms[1:] {
		got[m.Name] = m.Participation
	}
	want := map[string]cell.Participation{"Nguyễn Văn An": cell.Regular, "Nguyễn Văn Ân": cell.Exempt, "Lê Văn Tư": cell.Regular, "Lê Văn Từ": cell.Regular}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("roster (-want +got):\n%s", d)
	}
}

// TestMigrateNames: a names index keyed by the old accent-folded form is rebuilt
// by identity, once, and safely when several processes start together.
func TestMigrateNames(t *testing.T) {
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	ctx := context.Background()
	k := s.Keys()
	// Data as an older version of the bot wrote it.
	const id = 7
	members := map[string]any{}
	for i, n := range []string{"Nguyễn Thị Lan", "Trần Văn Bình", "Lê Văn Tư"} {
		b, _ := json.Marshal(cell.Member{ID: int64(i + 1), Name: n, Standing: cell.Official, Participation: cell.Regular})
		members[string(rune('1'+i))] = string(b)
	}
	rdb.HSet(ctx, k.Members(id), members)
	rdb.HSet(ctx, k.Names(id), map[string]any{"nguyen thi lan": 1, "tran van binh": 2, "le van tu": 3})
	rdb.Set(ctx, k.MemberSeq(id), 3, 0)
	rdb.HSet(ctx, k.Cell(id), map[string]any{"name": "Chi bộ cũ", "chat": -1102, "tz": "Asia/Ho_Chi_Minh", "lang": "vi"})
	rdb.SAdd(ctx, k.Cells(), id)

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			if _, err := s.MigrateNames(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	names, err := rdb.HGetAll(ctx, k.Names(id)).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"nguyễn thị lan": "1", "trần văn bình": "2", "lê văn tư": "3"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("names index (-want +got):\n%s", d)
	}
	if n, err := s.MigrateNames(ctx); err != nil || n != 0 {
		t.Errorf("second run migrated %d cells, %v; want none", n, err)
	}
	// After the migration, "Lê Văn Từ" is a new member, "Lê Văn Tư" the old one.
	res, err := s.ImportMembers(ctx, id, []cell.Member{line("Lê Văn Tư"), line("Lê Văn Từ")})
	if err != nil || res.Updated != 1 || res.Added != 1 {
		t.Errorf("import after migration = %+v, %v; want 1 updated, 1 added", res, err)
	}
}

// TestUnlistedSecretaryLinks: /setup's record (Telegram first name "Lan", last
// name "Nguyễn Thị") becomes the roster's "Nguyễn Thị Lan" at import, in the
// other order; never a second record.
func TestUnlistedSecretaryLinks(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c, sec, err := s.CreateCell(ctx, cell.Cell{Name: "Chi bộ 4", ChatID: -1103, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
		cell.Member{Name: "Lan Nguyễn Thị", Alias: "Nguyễn Thị Lan", UserID: 300, Unlisted: true})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Expected(c.Created) {
		t.Error("an unlisted secretary counts as expected")
	}
	res, err := s.ImportMembers(ctx, c.ID, []cell.Member{line("Nguyễn Thị Lan"), line("Trần Văn Bình")})
	if err != nil || res != (storage.ImportResult{Added: 1, Updated: 1, Linked: 1}) {
		t.Fatalf("import = %+v, %v", res, err)
	}
	me, err := s.MemberByUser(ctx, c.ID, 300)
	if err != nil || me.Name != "Nguyễn Thị Lan" || me.Unlisted || me.Role != cell.RoleSecretary {
		t.Fatalf("secretary after import = %+v, %v", me, err)
	}
	ms, _ := s.Members(ctx, c.ID)
	if len(ms) != 2 {
		t.Errorf("roster has %d records, want 2", len(ms))
	}
	// The old name no longer names anyone; the roster name does.
	res, err = s.ImportMembers(ctx, c.ID, []cell.Member{line("Lan Nguyễn Thị")})
	if err != nil || res.Added != 1 {
		t.Errorf("import of the Telegram name as a line = %+v, %v; want a new member", res, err)
	}
}

// TestLinkSelf: an unlisted record picks its entry; the entry keeps its name and
// gets the account and the role; a second pick is refused.
func TestLinkSelf(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	c, sec, err := s.CreateCell(ctx, cell.Cell{Name: "Chi bộ 5", ChatID: -1104, TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi"},
		cell.Member{Name: "Chị Lan", UserID: 301, Unlisted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportMembers(ctx, c.ID, []cell.Member{line("Nguyễn Thị Lan"), line("Trần Đức Lan")}); err != nil {
		t.Fatal(err)
	}
	m, err := s.LinkSelf(ctx, c.ID, sec.ID, 2)
	if err != nil || m.Name != "Nguyễn Thị Lan" || m.UserID != 301 || m.Role != cell.RoleSecretary || m.Unlisted {
		t.Fatalf("LinkSelf = %+v, %v", m, err)
	}
	if got, err := s.MemberByUser(ctx, c.ID, 301); err != nil || got.ID != 2 {
		t.Errorf("account now names %+v, %v", got, err)
	}
	if _, err := s.LinkSelf(ctx, c.ID, sec.ID, 3); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second LinkSelf: %v, want ErrNotFound", err)
	}
	ms, _ := s.Members(ctx, c.ID)
	if len(ms) != 2 {
		t.Errorf("roster has %d records, want 2", len(ms))
	}
}

// TestTwoSetupsAtOnce: of many /setup at once in one group one cell is made;
// the others get it with ErrAlreadyBound and leave no cell of their own behind.
func TestTwoSetupsAtOnce(t *testing.T) {
	s := newRosterStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make(chan int64, 8)
	for i := range 8 {
		wg.Go(func() {
			c, _, err := s.CreateCell(ctx, cell.Cell{Name: "Chi bộ 6", ChatID: -1105}, cell.Member{Name: "Lan", UserID: 400})
			if err != nil && !errors.Is(err, storage.ErrAlreadyBound) {
				t.Errorf("setup %d: %v", i, err)
			}
			ids <- c.ID
		})
	}
	wg.Wait()
	close(ids)
	var first int64
	for id := range ids {
		if first == 0 {
			first = id
		}
		if id != first {
			t.Errorf("setups returned cells %d and %d", first, id)
		}
	}
	cells, err := s.UserCells(ctx, 400)
	if err != nil || len(cells) != 1 || cells[0] != first {
		t.Errorf("the caller's cells = %v, %v; want only %d", cells, err, first)
	}
}
