package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestCellExportImportRoundTrip: a cell with a quarter of meetings (three monthly,
// one topical) and what members said and did at them is exported, the key space
// emptied, the export imported, and exported again: the two are equal, and the
// store reads the cell as before.
func TestCellExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	c := newCell(t, s, -4001)
	other := newCell(t, s, -4002) // stays put: the import must not need it
	_, err := s.ImportMembers(ctx, c.ID, []cell.Member{
		{Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Regular},
		{Name: "Lê Thị Hoa", Standing: cell.Probationary, Participation: cell.Regular},
		{Name: "Phạm Văn Đức", Standing: cell.Official, Participation: cell.Away, Until: "2027-01-01", Reason: "đi xa"},
	})
	must(err)
	must(s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 601, MemberID: 2, Name: "Trần Văn Bình"}))
	_, err = s.ConfirmJoin(ctx, c.ID, 601)
	must(err)
	must(s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 602, MemberID: 3, Name: "Lê Thị Hoa"})) // pending
	_, err = s.MarkUnreachable(ctx, c.ID, 4, 1_800_000_000)
	must(err)
	_, err = s.SetRecurrence(ctx, c.ID, "0 19 5 * *", true, "Nhà văn hoá khu 3")
	must(err)
	must(s.SetLeads(ctx, c.ID, []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour}))
	_, err = s.AddHoliday(ctx, c.ID, "2027-01-01")
	must(err)

	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	for i, start := range []time.Time{
		time.Date(2026, 10, 5, 19, 0, 0, 0, loc),
		time.Date(2026, 11, 5, 19, 0, 0, 0, loc),
		time.Date(2026, 11, 20, 19, 0, 0, 0, loc), // topical
		time.Date(2026, 12, 5, 19, 0, 0, 0, loc),
	} {
		kind, origin := cell.KindRegular, "occ:"+start.Format("20060102")
		if i == 2 {
			kind, origin = cell.KindTopical, "u:topical"
		}
		m, _, err := s.CreateMeeting(ctx, origin, cell.Meeting{CellID: c.ID, Kind: kind, Title: "Sinh hoạt", Start: start,
			Place: "Nhà văn hoá", Agenda: []string{"Báo cáo", "Nghị quyết"}, State: cell.StateScheduled})
		must(err)
		at := start.Add(-24 * time.Hour)
		must(s.SetAnswer(ctx, c.ID, m.ID, 2, cell.Answer{MemberID: 2, Kind: cell.Coming, At: at}))
		must(s.SetAnswer(ctx, c.ID, m.ID, 3, cell.Answer{MemberID: 3, Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "con ốm", At: at}))
		must(s.AddNotified(ctx, c.ID, m.ID, []int64{1, 2, 3}))
		must(s.SetGroupNotice(ctx, c.ID, m.ID, 100+int64(i), "✅ 1 · ❌ 1"))
		if i < 3 { // the last one is still to come
			must(s.SetPresence(ctx, c.ID, m.ID, cell.Presence{MemberID: 1, Mark: cell.PresentByRollCall, At: start}))
			must(s.SetPresence(ctx, c.ID, m.ID, cell.Presence{MemberID: 2, Mark: cell.PresentByCode, At: start}))
			must(s.SetOutcomes(ctx, c.ID, m.ID, map[int64]cell.Outcome{1: cell.OutcomePresent, 2: cell.OutcomePresent,
				3: cell.OutcomeExcused, 4: cell.OutcomeNotExpected}))
			_, err = s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error { m.State = cell.StateClosed; return nil })
			must(err)
		}
		if i == 0 { // corrected after /close: the correction travels too
			_, err = s.Correct(ctx, c.ID, m.ID, cell.Correction{MemberID: 3, To: cell.OutcomeAbsent, By: 1, At: start.Add(48 * time.Hour)})
			must(err)
		}
	}

	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	first, err := s.ExportCell(ctx, c.ID, now)
	must(err)
	if len(first.Meetings) != 4 || len(first.Members) != 4 {
		t.Fatalf("export has %d meetings and %d members, want 4 and 4", len(first.Meetings), len(first.Members))
	}
	if got := first.Meetings[0]; len(got.Corrections) != 1 || len(got.CorrectionLog) != 1 {
		t.Fatalf("the export has %d corrections, %d logged; want 1 and 1", len(got.Corrections), len(got.CorrectionLog))
	}
	data, err := json.MarshalIndent(first, "", "  ")
	must(err)
	beforeMembers, err := s.Members(ctx, c.ID)
	must(err)
	beforeMeetings, err := s.Meetings(ctx, c.ID, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	must(err)

	// Flush: every key of this test's store goes.
	keys, err := rdb.Keys(ctx, prefix+":*").Result()
	must(err)
	must(rdb.Del(ctx, keys...).Err())
	if _, err := s.Cell(ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after the flush: cell %v", err)
	}

	var in storage.CellExport
	must(json.Unmarshal(data, &in))
	must(s.ImportCell(ctx, &in))
	again, err := s.ExportCell(ctx, c.ID, now)
	must(err)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("export after import differs (-before +after):\n%s", diff)
	}

	// The store reads it as before, from every way in.
	if got, err := s.CellByChat(ctx, c.ChatID); err != nil || got.ID != c.ID {
		t.Errorf("cell by chat = %+v, %v", got, err)
	}
	if got, err := s.CellByJoinToken(ctx, c.JoinToken); err != nil || got.ID != c.ID {
		t.Errorf("cell by join link = %+v, %v", got, err)
	}
	if m, err := s.MemberByUser(ctx, c.ID, 601); err != nil || m.Name != "Trần Văn Bình" {
		t.Errorf("member of user 601 = %+v, %v", m, err)
	}
	if cells, err := s.UserCells(ctx, 601); err != nil || len(cells) != 1 || cells[0] != c.ID {
		t.Errorf("cells of user 601 = %v, %v", cells, err)
	}
	if id, err := s.UserCell(ctx, 601); err != nil || id != c.ID {
		t.Errorf("user 601's current cell = %d, %v", id, err)
	}
	afterMembers, err := s.Members(ctx, c.ID)
	must(err)
	if diff := cmp.Diff(beforeMembers, afterMembers); diff != "" {
		t.Errorf("members (-before +after):\n%s", diff)
	}
	afterMeetings, err := s.Meetings(ctx, c.ID, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	must(err)
	if diff := cmp.Diff(beforeMeetings, afterMeetings); diff != "" {
		t.Errorf("meetings (-before +after):\n%s", diff)
	}
	if ids, err := s.CellIDs(ctx); err != nil || len(ids) != 1 || ids[0] != c.ID {
		t.Errorf("cell ids = %v, %v", ids, err)
	}
	// A new cell takes a higher id than the imported one.
	n := newCell(t, s, -4003)
	if n.ID <= c.ID {
		t.Errorf("a new cell got id %d, not above the imported %d", n.ID, c.ID)
	}
	_ = other

	// Importing over an existing cell is refused; so is an unknown format.
	if err := s.ImportCell(ctx, &in); !errors.Is(err, storage.ErrCellExists) {
		t.Errorf("second import: %v, want ErrCellExists", err)
	}
	in.Format = 99
	if err := s.ImportCell(ctx, &in); err == nil {
		t.Error("format 99 imported")
	}
}
