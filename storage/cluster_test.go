package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// TestOnRedisCluster runs the store's main operations against a real three-master
// Redis Cluster: every script and transaction must touch keys of one hash slot
// (keys.go's hash tags), or Redis answers CROSSSLOT. The cell ids, user ids and
// chat ids differ so that their keys land on different masters.
func TestOnRedisCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := testenv.StartCluster(t)
	s := storage.New(cl.Client(t), "cellbot")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.LoadScripts(ctx)) // on every master
	now := time.UnixMilli(1_800_000_000_000)

	var cells []cell.Cell
	for i := range 3 {
		c, _, err := s.CreateCell(ctx, cell.Cell{Name: "Chi bộ", ChatID: -1000 - int64(i), TimeZone: "Asia/Ho_Chi_Minh",
			Lang: "vi", Quiet: cell.DefaultQuiet}, cell.Member{Name: "Nguyễn Thị Lan", UserID: 100 + int64(i)})
		must(err)
		cells = append(cells, c)
	}
	c := cells[1]
	if got, err := s.CellByChat(ctx, c.ChatID); err != nil || got.ID != c.ID {
		t.Fatalf("cell by chat = %+v, %v", got, err)
	}
	if got, err := s.CellByJoinToken(ctx, c.JoinToken); err != nil || got.ID != c.ID {
		t.Fatalf("cell by join token = %+v, %v", got, err)
	}
	must(s.SetCellQuiet(ctx, c.ID, cell.DefaultQuiet))

	t.Run("roster", func(t *testing.T) {
		res, err := s.ImportMembers(ctx, c.ID, []cell.Member{
			{Name: "Trần Văn Bình", Standing: cell.Official, Participation: cell.Regular},
			{Name: "Lê Thị Hoa", Standing: cell.Probationary, Participation: cell.Regular},
		})
		if err != nil || res.Added != 2 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		must(s.AddJoinRequest(ctx, c.ID, storage.JoinRequest{UserID: 501, MemberID: 2, Name: "Trần Văn Bình"}))
		if m, err := s.ConfirmJoin(ctx, c.ID, 501); err != nil || m.UserID != 501 {
			t.Fatalf("confirm join = %+v, %v", m, err)
		}
		limit := storage.NoticeLimit{N: 3, Per: time.Hour}
		if got, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 502, MemberID: 3, Name: "Lê Thị Hoa", At: 1}, limit); err != nil || !got.Made {
			t.Fatalf("request join = %+v, %v", got, err)
		}
		if ok, err := s.WithdrawJoin(ctx, c.ID, 502, 1); err != nil || !ok {
			t.Fatalf("withdraw join = %v, %v", ok, err)
		}
		if _, err := s.RequestJoin(ctx, c.ID, storage.JoinRequest{UserID: 502, Name: "Đinh Văn Mới", At: 2}, limit); err != nil {
			t.Fatal(err)
		}
		if j, err := s.ConfirmJoinRequest(ctx, c.ID, 502, 2); err != nil || !j.Added {
			t.Fatalf("confirm a new name = %+v, %v", j, err)
		}
		must(s.SetOpened(ctx, 503, ""))
		must(s.LeaveUserCell(ctx, 502, c.ID))
		if _, err := s.UpdateMember(ctx, c.ID, 3, func(m *cell.Member) error { m.Participation = cell.Exempt; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkUnreachable(ctx, c.ID, 3, now.Unix()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserCell(ctx, 501); err != nil {
			t.Fatal(err)
		}
		must(s.SetUserLang(ctx, 501, "en"))
		must(s.SetDialogue(ctx, 501, storage.Dialogue{}, time.Minute))
		if _, err := s.UserLangs(ctx, []int64{100, 101, 501}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UnbindChat(ctx, cells[2].ChatID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RebindChat(ctx, cells[2].ChatID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MigrateNames(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CommitteeSeats(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("meetings", func(t *testing.T) {
		m, created, err := s.CreateMeeting(ctx, "occ:1", cell.Meeting{CellID: c.ID, Kind: cell.KindRegular,
			Start: now.Add(48 * time.Hour), State: cell.StateScheduled})
		if err != nil || !created {
			t.Fatalf("create meeting = %+v, %v, %v", m, created, err)
		}
		if _, err := s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error { m.Place = "Nhà văn hoá"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetRecurrence(ctx, c.ID, "0 19 5 * *", true, "Nhà văn hoá"); err != nil {
			t.Fatal(err)
		}
		must(s.SetLeads(ctx, c.ID, []time.Duration{24 * time.Hour}))
		if _, err := s.AddHoliday(ctx, c.ID, "2027-09-02"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Answer(ctx, c.ID, m.ID, cell.Answer{MemberID: 1, Kind: cell.Unsure, At: now}, now); err != nil {
			t.Fatalf("answer: %v", err) // and its counts marked, in two slots
		}
		must(s.SetAnswer(ctx, c.ID, m.ID, 2, cell.Answer{MemberID: 2, Kind: cell.Coming, At: now}))
		must(s.AddNotified(ctx, c.ID, m.ID, []int64{1, 2, 3}))
		must(s.MarkCounts(ctx, c.ID, m.ID))
		claims, err := s.ClaimCounts(ctx, time.Minute, 10)
		if err != nil || len(claims) != 1 {
			t.Fatalf("claim counts = %v, %v", claims, err)
		}
		must(s.DoneCounts(ctx, claims[0], time.Second))
		must(s.SetGroupNotice(ctx, c.ID, m.ID, 77, "counts"))

		code, _, err := s.OpenCheckin(ctx, c.ID, m.ID, "4711")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckIn(ctx, c.ID, cell.Presence{MemberID: 2, Mark: cell.PresentByCode, At: now}, code); err != nil {
			t.Fatalf("check in: %v", err)
		}
		must(s.CloseCheckin(ctx, c.ID, m.ID))
		must(s.SetOutcomes(ctx, c.ID, m.ID, map[int64]cell.Outcome{2: cell.OutcomePresent, 3: cell.OutcomeNotExpected}))
		if _, err := s.MarkAlertSent(ctx, c.ID, "streak", 3, m.ID); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Presences(ctx, c.ID, m.ID); err != nil || !p[2].Present() {
			t.Fatalf("presences = %v, %v", p, err)
		}
	})

	t.Run("schedule", func(t *testing.T) {
		var items []storage.DueItem
		for i := range 20 {
			items = append(items, storage.DueItem{Kind: storage.DueRemind, CellID: int64(i), MeetingID: 1, Arg: 3600, Version: 1, At: now})
		}
		must(s.ScheduleDue(ctx, items...))
		got, err := s.ClaimDue(ctx, now, time.Minute, 100)
		if err != nil || len(got) != len(items) {
			t.Fatalf("claimed %d, %v; want %d", len(got), err, len(items))
		}
		must(s.AckDue(ctx, got[0]))
		must(s.ExtendDue(ctx, now, time.Minute, got[1:]...))
		if n, err := s.RecoverDue(ctx, now.Add(time.Hour), 100); err != nil || n != len(items)-1 {
			t.Fatalf("recovered %d, %v; want %d", n, err, len(items)-1)
		}
	})

	t.Run("queue", func(t *testing.T) {
		job := storage.QueueJob{ID: "bc:1", CellID: c.ID, Purpose: "broadcast", Lang: "vi", ReportChatID: 100}
		if _, err := s.CreateQueueJob(ctx, now, job, 3); err != nil {
			t.Fatal(err)
		}
		var entries []storage.QueueEntry
		for i := range 3 {
			e := queueEntry("bc:1:"+string(rune('a'+i)), 1)
			e.JobID = job.ID
			e.To.ChatID = 2000 + int64(i)
			entries = append(entries, e)
		}
		mustEnqueue(t, s, now, entries...)
		for i := range 3 {
			e := mustClaim(t, s, now, time.Minute, "tok")
			if e == nil {
				t.Fatalf("claim %d: queue empty", i)
			}
			must(s.MarkSent(ctx, e.ID, 0, 0))
			if _, err := s.Done(ctx, now, e.ID, e.Token, storage.ResultSent, time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if ids, err := s.ClaimFinishedJobs(ctx, now, time.Minute, 10); err != nil || len(ids) != 1 {
			t.Fatalf("finished jobs = %v, %v", ids, err)
		}
		if st, err := s.QueueJobState(ctx, job.ID, 10); err != nil || st.Sent != 3 {
			t.Fatalf("job state = %+v, %v", st, err)
		}
		if _, _, err := s.RecoverLeases(ctx, now, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := s.QueueDepth(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChatQueued(ctx, 2000); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("updates and rate", func(t *testing.T) {
		if _, err := s.ClaimUpdate(ctx, "u:1", "tok", time.Minute); err != nil {
			t.Fatal(err)
		}
		must(s.FinishUpdate(ctx, "u:1", time.Hour))
		for _, u := range []storage.UpdateStart{
			{Key: "u:2", UserID: 101, ChatID: c.ChatID, GroupChatID: c.ChatID}, // the group's cell
			{Key: "u:3", UserID: 101, ChatID: 101, CellID: c.ID},               // a button's cell
			{Key: "u:4", UserID: 101, ChatID: 101},                             // the user's own
		} {
			u.Token, u.Lease = "tok", time.Minute
			u.Flood = storage.FloodLimit{Updates: 20, Window: 10 * time.Second, Mute: time.Minute} // the sender's slot
			st, err := s.StartUpdate(ctx, u)
			if err != nil || st.State != storage.UpdateClaimed || st.Flood.State != storage.FloodOK || st.Actor.Cell == nil || st.Actor.Cell.ID != c.ID || st.Actor.Member == nil {
				t.Fatalf("start %s = %+v, %v", u.Key, st, err)
			}
		}
		l := storage.DefaultRateLimits()
		if _, ok, err := s.Reserve(ctx, now, 2000, l, time.Second); err != nil || !ok {
			t.Fatalf("reserve = %v, %v", ok, err)
		}
		if _, err := s.PauseChat(ctx, now, 2000, time.Second, l); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("wave", func(t *testing.T) {
		due := now.Add(time.Hour)
		d := storage.DueItem{Kind: storage.DueRemind, CellID: c.ID, MeetingID: 9, Arg: 7200, Version: 1, At: due}
		must(s.ScheduleDue(ctx, d))
		if _, err := s.DueBetween(ctx, now, due); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.PromoteDue(ctx, d, now, storage.WavePlan{End: due, Taken: storage.WaveLoad{storage.WaveBucketOf(now): 1}}); err != nil || !ok {
			t.Fatalf("promote = %v, %v", ok, err)
		}
		if _, err := s.WaveLoadFrom(ctx, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PlanCells(ctx, []int64{cells[0].ID, cells[2].ID}); err != nil {
			t.Fatal(err)
		}
		tpl := storage.WaveTemplate{ID: "remind:1:9:1:7200:vi", CellID: c.ID, Purpose: "reminder",
			Parts: []json.RawMessage{json.RawMessage(`{"method":"sendMessage","params":{"text":"Nhắc họp"}}`)}}
		if n, err := s.EnqueueWave(ctx, now, tpl, []storage.WaveMessage{{MemberID: 1, ChatID: 3000}}); err != nil || n != 1 {
			t.Fatalf("enqueue wave = %d, %v", n, err)
		}
		if n, _, err := s.ReleaseWave(ctx, now, now, storage.QueueBatch); err != nil || n != 1 {
			t.Fatalf("release = %d, %v", n, err)
		}
		e, _, err := s.Claim(ctx, now, time.Minute, "tok-wave")
		if err != nil || e == nil || e.Template != tpl.ID || len(e.Parts) != 1 {
			t.Fatalf("claim = %+v, %v", e, err)
		}
	})

	t.Run("export and import", func(t *testing.T) {
		e, err := s.ExportCell(ctx, c.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		moved := storage.New(cl.Client(t), "moved") // another deployment on the same cluster
		must(moved.ImportCell(ctx, e))
		again, err := moved.ExportCell(ctx, c.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Errorf("export after import differs:\n%s", diff)
		}
	})
}
