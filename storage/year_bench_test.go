package storage_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/checkin"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/scheduler"
	"github.com/cellbot/cellbot/storage"
)

// BenchmarkCellYear measures what a cell costs Redis to keep: CELLBOT_BENCH_CELLS
// cells (default 1,000) of 51 members, each with a year of twelve monthly
// meetings as the bot leaves them: the meeting (agenda, a document now and
// then, a vote, chair and minute taker), the notified set, the group notice's
// last counts, every member's answer (coming, excused with a reason, not sure,
// or none), presence (checked in by code or QR, marked by roll call, or
// absent), the outcomes of /close, the absence alerts' markers, a few
// corrections, the year's holidays. Everything goes through the storage
// methods the bot uses, except the roster, written with a pipeline as an
// import would leave it (the import is not what is measured).
//
// The notices and reminders the year sends are not queued here: a queued
// message, its sent marker and its result id expire storage.QueueRetention (7
// days) after it is sent, so the queue is no part of what a year leaves. Nor
// are the scheduler's items (removed once done), handled updates, answered
// presses, dialogues and flood counters, which expire too. The counts marks
// the answers leave are drained as the counts loop does; what a meeting leaves
// for good (its answers, presence, notified set, alert markers…) is counted.
//
// Metrics, per cell: bytes/cell-year is INFO used_memory after the cells and
// their year less before, keys/cell the keys they add; roster-bytes/cell is
// the cell with its roster and members' accounts alone, history-bytes/cell-year
// what the year added to it (a second year adds as much again). The log lists
// the key families of a sample of cells by MEMORY USAGE (run with -v to see
// it whole). CELLBOT_BENCH_LISTPACK_VALUE sets Redis's hash-max-listpack-value
// (64 by default), to measure what a larger one saves.
func BenchmarkCellYear(b *testing.B) {
	cells := yearEnvInt("CELLBOT_BENCH_CELLS", 1000)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		srv := testenv.StartRedis(b)
		probe := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		// The append-only file would take every command of the year (gigabytes
		// at 10,000 cells) and fork to rewrite it; memory is what is measured.
		if err := probe.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
			b.Fatal(err)
		}
		if v := os.Getenv("CELLBOT_BENCH_LISTPACK_VALUE"); v != "" {
			if err := probe.ConfigSet(ctx, "hash-max-listpack-value", v).Err(); err != nil {
				b.Fatal(err)
			}
		}
		work := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 64})
		store := storage.New(work, "")
		y := newYearSim(store, work)

		mem0, keys0 := yearMemory(b, probe)
		began := time.Now()
		b.StartTimer()
		ids := yearParallel(b, cells, func(i int) (int64, error) { return y.seedCell(ctx, i) })
		b.StopTimer()
		_ = work.Close()
		mem1, keys1 := yearMemory(b, probe)

		work = redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 64})
		store = storage.New(work, "")
		y.store, y.rdb = store, work
		b.StartTimer()
		yearParallel(b, cells, func(i int) (int64, error) { return ids[i], y.liveYear(ctx, ids[i]) })
		drained, err := yearDrainCounts(ctx, store)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(began)
		_ = work.Close()
		mem2, keys2 := yearMemory(b, probe)

		n := float64(cells)
		b.ReportMetric(float64(mem2-mem0)/n, "bytes/cell-year")
		b.ReportMetric(float64(keys2-keys0)/n, "keys/cell")
		b.ReportMetric(float64(mem1-mem0)/n, "roster-bytes/cell")
		b.ReportMetric(float64(mem2-mem1)/n, "history-bytes/cell-year")
		b.ReportMetric(float64(keys2-keys1)/n, "history-keys/cell-year")
		b.ReportMetric(float64(mem2-mem0)/(1<<20), "MB-total")
		b.Logf("%d cells in %v: %d answers, %d presences, %d alerts, %d corrections; %d counts marks drained",
			cells, took.Round(time.Second), y.answers.Load(), y.presences.Load(), y.alerts.Load(), y.corrections.Load(), drained)
		yearFamilies(b, probe, storage.New(probe, ""), ids[:min(len(ids), 20)])
		_ = probe.Close()
	}
}

func yearEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// yearMemory reads used_memory and the number of keys once only the probe is
// connected (the workers' connections hold buffers that are no data).
func yearMemory(b *testing.B, rdb *redis.Client) (mem, keys int64) {
	b.Helper()
	ctx := context.Background()
	for tries := 0; testenv.RedisInfo(b, rdb, "clients", "connected_clients") > 1; tries++ {
		if tries == 1000 {
			b.Fatal("the workers' connections are still open")
		}
		// The server drops a closed connection at its next event loop.
		if err := rdb.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
	keys, err := rdb.DBSize(ctx).Result()
	if err != nil {
		b.Fatal(err)
	}
	return testenv.RedisInfo(b, rdb, "memory", "used_memory"), keys
}

// yearParallel runs do for 0..n-1 on a few goroutines and returns what each
// gave, in order; the first error fails the benchmark.
func yearParallel(b *testing.B, n int, do func(i int) (int64, error)) []int64 {
	b.Helper()
	out := make([]int64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				v, err := do(i)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("cell %d: %w", i, err)
					}
					mu.Unlock()
					next.Store(int64(n))
					return
				}
				out[i] = v
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
	return out
}

// yearDrainCounts does what the counts loop does once the answers are in: it
// takes every marked group notice and, nothing having changed since, drops
// the mark.
func yearDrainCounts(ctx context.Context, s *storage.Store) (int, error) {
	n := 0
	for {
		claims, err := s.ClaimCounts(ctx, time.Minute, 1000)
		if err != nil || len(claims) == 0 {
			return n, err
		}
		for _, c := range claims {
			if err := s.DoneCounts(ctx, c, time.Second); err != nil {
				return n, err
			}
		}
		n += len(claims)
	}
}

// yearSim builds cells and lives their year through the storage methods.
type yearSim struct {
	store                                   *storage.Store
	rdb                                     *redis.Client
	loc                                     *time.Location
	year                                    int
	answers, presences, alerts, corrections atomic.Int64
}

func newYearSim(s *storage.Store, rdb *redis.Client) *yearSim {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		loc = time.FixedZone("ICT", 7*3600)
	}
	return &yearSim{store: s, rdb: rdb, loc: loc, year: 2027}
}

const yearMembers = 51

var (
	yearFamily  = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	yearMiddle  = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Xuân", "Thị Kim", "Văn Quốc"}
	yearGiven   = []string{"An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt", "Yến"}
	yearReasons = []string{"Đi công tác Hà Nội", "Con nhỏ bị ốm", "Trực cơ quan", "Họp phụ huynh", "Về quê có việc", "Đi khám bệnh định kỳ"}
	yearHoliday = []string{"2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-04-16", "2027-04-30", "2027-05-01", "2027-09-02"}
)

func yearUserID(cellIdx, member int) int64 { return int64(5_000_000_000 + cellIdx*100 + member) }

// seedCell makes cell i: /setup by its secretary, the roster of 51 as an
// import leaves it, every member's account linked and opened, the schedule.
func (y *yearSim) seedCell(ctx context.Context, i int) (int64, error) {
	s := y.store
	rng := rand.New(rand.NewPCG(uint64(i), 1))
	names := map[string]bool{}
	name := func() string {
		for {
			n := yearFamily[rng.IntN(len(yearFamily))] + " " + yearMiddle[rng.IntN(len(yearMiddle))] + " " + yearGiven[rng.IntN(len(yearGiven))]
			if !names[cell.Key(n)] {
				names[cell.Key(n)] = true
				return n
			}
		}
	}
	c, _, err := s.CreateCell(ctx, cell.Cell{
		Name: fmt.Sprintf("Chi bộ Khu phố %d, phường An Phú", i+1), ChatID: -int64(1_001_000_000_000 + i),
		TimeZone: "Asia/Ho_Chi_Minh", Lang: "vi", Quiet: cell.DefaultQuiet, Created: time.Date(y.year-1, 12, 20, 9, 0, 0, 0, y.loc),
	}, cell.Member{Name: name(), UserID: yearUserID(i, 1)})
	if err != nil {
		return 0, err
	}
	ms := make([]cell.Member, 0, yearMembers)
	for j := 2; j <= yearMembers; j++ {
		m := cell.Member{ID: int64(j), Name: name(), UserID: yearUserID(i, j), Standing: cell.Official, Participation: cell.Regular}
		switch {
		case j == 2:
			m.Role = cell.RoleDeputy
		case j == 3:
			m.Role = cell.RoleCommittee
		case j >= 47 && j <= 48:
			m.Standing = cell.Probationary
		case j >= 49 && j <= 50:
			m.Participation, m.Reason = cell.Exempt, "Tuổi cao, sức yếu"
		case j == 51:
			m.Participation, m.Until, m.Reason = cell.Away, fmt.Sprintf("%d-09-30", y.year), "Đi học tập trung dài hạn"
		}
		ms = append(ms, m)
	}
	if err := y.seedRoster(ctx, c.ID, ms); err != nil {
		return 0, err
	}
	for j := 2; j <= yearMembers; j++ {
		if err := s.AddUserCell(ctx, yearUserID(i, j), c.ID); err != nil {
			return 0, err
		}
	}
	for j := 1; j <= yearMembers; j++ {
		if err := s.SetOpened(ctx, yearUserID(i, j), ""); err != nil {
			return 0, err
		}
	}
	if _, err := s.SetRecurrence(ctx, c.ID, "0 19 5 * *", true, "Hội trường khu phố, 12 đường Lê Lợi"); err != nil {
		return 0, err
	}
	if err := s.SetCellParent(ctx, c.ID, "Đảng bộ phường An Phú"); err != nil {
		return 0, err
	}
	return c.ID, nil
}

// seedRoster writes the members as /import leaves them, linked to their
// accounts, in one pipeline.
func (y *yearSim) seedRoster(ctx context.Context, cellID int64, ms []cell.Member) error {
	k := y.store.Keys()
	_, err := y.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range ms {
			data, err := json.Marshal(m)
			if err != nil {
				return err
			}
			id := strconv.FormatInt(m.ID, 10)
			p.HSet(ctx, k.Members(cellID), id, data)
			p.HSet(ctx, k.Names(cellID), cell.Key(m.Name), id)
			p.HSet(ctx, k.Users(cellID), strconv.FormatInt(m.UserID, 10), id)
		}
		p.Set(ctx, k.MemberSeq(cellID), len(ms)+1, 0)
		return nil
	})
	return err
}

// liveYear is one cell's twelve monthly meetings, from notice to /close.
func (y *yearSim) liveYear(ctx context.Context, cellID int64) error {
	s := y.store
	rng := rand.New(rand.NewPCG(uint64(cellID), 2))
	c, err := s.Cell(ctx, cellID)
	if err != nil {
		return err
	}
	roster, err := s.Members(ctx, cellID)
	if err != nil {
		return err
	}
	sched, err := s.Schedule(ctx, cellID)
	if err != nil {
		return err
	}
	for _, d := range yearHoliday {
		if _, err := s.AddHoliday(ctx, cellID, d); err != nil {
			return err
		}
	}
	secretary := roster[0]
	history := map[int64][]cell.Attendance{}
	for month := 1; month <= 12; month++ {
		start := time.Date(y.year, time.Month(month), 5, 19, 0, 0, 0, y.loc)
		if err := y.meeting(ctx, rng, c, roster, sched, secretary, start, history); err != nil {
			return fmt.Errorf("meeting of %s: %w", start.Format("2006-01"), err)
		}
	}
	// One member blocked the bot some time in the year.
	if _, err := s.MarkUnreachable(ctx, cellID, int64(10+rng.IntN(30)), time.Date(y.year, 6, 1, 0, 0, 0, 0, y.loc).Unix()); err != nil {
		return err
	}
	return nil
}

// yearAt is a moment after t, with the nanoseconds time.Now gives, in UTC as
// a server's clock is.
func yearAt(rng *rand.Rand, t time.Time, within time.Duration) time.Time {
	return t.Add(time.Duration(rng.Int64N(int64(within)))).UTC()
}

func (y *yearSim) meeting(ctx context.Context, rng *rand.Rand, c cell.Cell, roster []cell.Member, sched cell.Schedule,
	secretary cell.Member, start time.Time, history map[int64][]cell.Attendance) error {
	s := y.store
	month := int(start.Month())
	// Planned by the scheduler from the recurrence.
	m, _, err := s.CreateMeeting(ctx, fmt.Sprintf("occ:%d:%d", start.Unix(), start.Unix()),
		cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: start, Place: sched.Place, Nominal: start})
	if err != nil {
		return err
	}
	// The notice: who it was queued for, and the group's notice.
	var notified []int64
	for _, mem := range roster {
		if mem.UserID != 0 && mem.GetsNotices(start) {
			notified = append(notified, mem.ID)
		}
	}
	if err := s.AddNotified(ctx, c.ID, m.ID, notified); err != nil {
		return err
	}
	if err := s.SetGroupNotice(ctx, c.ID, m.ID, 0, y.groupText(c, m, roster, nil)); err != nil {
		return err
	}
	// The agenda, and a document every third month.
	sent := start.AddDate(0, 0, -5)
	if m, err = s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error {
		m.Agenda = []string{
			"Thông qua biên bản sinh hoạt kỳ trước",
			fmt.Sprintf("Báo cáo kết quả công tác tháng %d", (month+10)%12+1),
			fmt.Sprintf("Triển khai nhiệm vụ tháng %d", month),
			"Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
			"Thu đảng phí",
		}
		if month%3 == 0 {
			m.Documents = append(m.Documents, cell.Document{
				FileID:   "BQACAgUAAxkBAAIB" + strconv.FormatInt(rng.Int64(), 36) + strconv.FormatInt(rng.Int64(), 36) + "AAHhbWFkZQACAg",
				FileName: fmt.Sprintf("Nghi-quyet-thang-%d.docx", month), At: yearAt(rng, sent, time.Hour),
			})
		}
		return nil
	}); err != nil {
		return err
	}
	// The answers, from the notice to the day before.
	answers := map[int64]cell.Answer{}
	for _, mem := range roster {
		if !mem.Expected(start) {
			continue
		}
		a := cell.Answer{MemberID: mem.ID, At: yearAt(rng, sent, 4*24*time.Hour)}
		switch r := rng.Float64(); {
		case r < 0.62:
			a.Kind = cell.Coming
		case r < 0.74:
			a.Kind = cell.Excused
			switch r := rng.Float64(); {
			case r < 0.4:
				a.Reason = cell.ReasonWork
			case r < 0.65:
				a.Reason = cell.ReasonIllness
			case r < 0.85:
				a.Reason = cell.ReasonFamily
			default:
				a.Reason, a.ReasonText = cell.ReasonOther, yearReasons[rng.IntN(len(yearReasons))]
			}
		case r < 0.82:
			a.Kind = cell.Unsure
		default:
			continue // never answered
		}
		if _, err := s.Answer(ctx, c.ID, m.ID, a, a.At); err != nil {
			return err
		}
		answers[mem.ID] = a
		y.answers.Add(1)
	}
	// The counts loop's last edit of the group's notice.
	if err := s.SetGroupNotice(ctx, c.ID, m.ID, 0, y.groupText(c, m, roster, answers)); err != nil {
		return err
	}
	// Check-in in the room: codes and QR scans, then the roll call.
	opened := start.Add(-15 * time.Minute)
	ci, err := s.OpenRotatingCheckin(ctx, c.ID, m.ID, checkin.NewKey(), start.Add(3*time.Hour))
	if err != nil {
		return err
	}
	if _, err := s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error {
		m.State = cell.StateCheckin
		return nil
	}); err != nil {
		return err
	}
	if err := s.AddCheckinShown(ctx, c.ID, m.ID, secretary.UserID, "vi"); err != nil {
		return err
	}
	sc := checkin.Secret{Key: ci.Key, CellID: c.ID, MeetingID: m.ID}
	presence := map[int64]cell.Presence{}
	for _, mem := range roster {
		if !mem.Expected(start) {
			continue
		}
		a, answered := answers[mem.ID]
		chance := 0.55
		switch {
		case answered && a.Kind == cell.Coming:
			chance = 0.93
		case answered && a.Kind == cell.Unsure:
			chance = 0.6
		case answered && a.Kind == cell.Excused:
			chance = 0.05
		}
		if rng.Float64() >= chance {
			if rng.Float64() < 0.3 { // the roll call marks them absent
				p := cell.Presence{MemberID: mem.ID, Mark: cell.MarkedAbsent, At: yearAt(rng, start, 20*time.Minute)}
				if err := s.SetPresence(ctx, c.ID, m.ID, p); err != nil {
					return err
				}
				presence[mem.ID] = p
				y.presences.Add(1)
			}
			continue
		}
		now := yearAt(rng, opened, 25*time.Minute)
		p := cell.Presence{MemberID: mem.ID, At: now}
		switch r := rng.Float64(); {
		case r < 0.6:
			p.Mark = cell.PresentByCode
			var accepted []string
			for _, st := range checkin.AcceptedSteps(now) {
				accepted = append(accepted, sc.Code(st))
			}
			if _, _, err := s.CheckInRotating(ctx, c.ID, ci, p, accepted[0], accepted, now); err != nil {
				return err
			}
		case r < 0.9:
			p.Mark = cell.PresentByQR
			if _, _, err := s.CheckInRotating(ctx, c.ID, ci, p, "", nil, now); err != nil {
				return err
			}
		default:
			p.Mark = cell.PresentByRollCall
			if err := s.SetPresence(ctx, c.ID, m.ID, p); err != nil {
				return err
			}
		}
		presence[mem.ID] = p
		y.presences.Add(1)
	}
	// The vote, chair and minute taker, then /close: outcomes first, the state last.
	as, ps := yearLists(answers, presence)
	sum := cell.Summarize(start, roster, as, ps, nil, sched.Target)
	closed := start.Add(2 * time.Hour).UTC()
	if _, err := s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error {
		voters := cell.Voters(start, roster, presence)
		b, err := cell.NewBallot(fmt.Sprintf("Thông qua nghị quyết tháng %d", month), voters-1, 0, 1, voters, sum.Vote, start.Add(90*time.Minute).UTC())
		if err != nil {
			return err
		}
		m.SetBallot(b)
		m.Chair, m.MinuteTaker = secretary.ID, roster[2].ID
		return nil
	}); err != nil {
		return err
	}
	if err := s.SetOutcomes(ctx, c.ID, m.ID, sum.Outcomes); err != nil {
		return err
	}
	if err := s.CloseCheckin(ctx, c.ID, m.ID); err != nil {
		return err
	}
	if m, err = s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error {
		m.State, m.Closed = cell.StateClosed, closed
		return nil
	}); err != nil {
		return err
	}
	// The absence alerts /close sends, each marked sent.
	for _, mem := range roster {
		o, ok := sum.Outcomes[mem.ID]
		if !ok {
			continue
		}
		history[mem.ID] = append(history[mem.ID], cell.Attendance{MeetingID: m.ID, Start: start, Outcome: o})
		for _, al := range cell.AbsenceAlerts(history[mem.ID], m.ID, y.loc) {
			if _, err := s.MarkAlertSent(ctx, c.ID, string(al.Kind), mem.ID, m.ID); err != nil {
				return err
			}
			y.alerts.Add(1)
		}
	}
	// Twice a year the committee corrects an outcome found wrong later.
	if month == 4 || month == 10 {
		for _, mem := range roster {
			if sum.Outcomes[mem.ID] != cell.OutcomeAbsent {
				continue
			}
			if _, err := s.Correct(ctx, c.ID, m.ID, cell.Correction{MemberID: mem.ID, To: cell.OutcomeExcused, Reason: cell.ReasonIllness,
				By: secretary.ID, ByName: secretary.Name, At: closed.AddDate(0, 0, 3)}); err != nil {
				return err
			}
			y.corrections.Add(1)
			break
		}
	}
	return nil
}

// groupText is the group's notice as the scheduler renders it, with the
// counts of answers.
func (y *yearSim) groupText(c cell.Cell, m cell.Meeting, roster []cell.Member, answers map[int64]cell.Answer) string {
	counts, _ := cell.Tally(roster, answers, m.Start.In(y.loc))
	return scheduler.NoticeText("vi", c, m) + "\n\n" + scheduler.CountsText("vi", c, m, counts)
}

func yearLists(answers map[int64]cell.Answer, presence map[int64]cell.Presence) ([]cell.Answer, []cell.Presence) {
	as := make([]cell.Answer, 0, len(answers))
	for _, a := range answers {
		as = append(as, a)
	}
	ps := make([]cell.Presence, 0, len(presence))
	for _, p := range presence {
		ps = append(ps, p)
	}
	return as, ps
}

// yearFamilies logs what the key families of a few cells cost, by MEMORY
// USAGE: the cells' own keys, their members' accounts, and the global keys
// that name them.
func yearFamilies(b *testing.B, rdb *redis.Client, s *storage.Store, ids []int64) {
	b.Helper()
	ctx := context.Background()
	k := s.Keys()
	type family struct {
		keys, bytes int64
		enc         map[string]int
	}
	fams := map[string]*family{}
	tags := regexp.MustCompile(`\{c:\d+\}|\{u:\d+\}`)
	add := func(key, name string) {
		n, err := rdb.MemoryUsage(ctx, key, 0).Result()
		if errors.Is(err, redis.Nil) {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
		enc, _ := rdb.ObjectEncoding(ctx, key).Result()
		if name == "" {
			name = tags.ReplaceAllStringFunc(key, func(t string) string { return t[:3] + "N}" })
			parts := strings.Split(name, ":")
			for i, p := range parts {
				if _, err := strconv.ParseInt(p, 10, 64); err == nil {
					parts[i] = "N"
				}
			}
			name = strings.Join(parts, ":")
		}
		f := fams[name]
		if f == nil {
			f = &family{enc: map[string]int{}}
			fams[name] = f
		}
		f.keys++
		f.bytes += n
		f.enc[enc]++
	}
	for _, id := range ids {
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, strings.TrimSuffix(k.Cell(id), ":cell")+":*", 1000).Result()
			if err != nil {
				b.Fatal(err)
			}
			for _, key := range keys {
				add(key, "")
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		c, err := s.Cell(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		add(k.ChatCell(c.ChatID), "")
		add(k.JoinToken(c.JoinToken), "cellbot:join:TOKEN")
		ms, err := s.Members(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range ms {
			add(k.User(m.UserID), "")
			add(k.UserCells(m.UserID), "")
		}
	}
	names := make([]string, 0, len(fams))
	var total int64
	for name, f := range fams {
		names = append(names, name)
		total += f.bytes
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(fams[b].bytes, fams[a].bytes) })
	n := float64(len(ids))
	var sb strings.Builder
	fmt.Fprintf(&sb, "key families of %d cells by MEMORY USAGE (%.0f bytes a cell):\n", len(ids), float64(total)/n)
	fmt.Fprintf(&sb, "%-44s %10s %10s %6s  %s\n", "family", "bytes/cell", "keys/cell", "share", "encoding")
	for _, name := range names {
		f := fams[name]
		encs := make([]string, 0, len(f.enc))
		for e, c := range f.enc {
			encs = append(encs, fmt.Sprintf("%s×%d", e, c))
		}
		slices.Sort(encs)
		fmt.Fprintf(&sb, "%-44s %10.0f %10.1f %5.1f%%  %s\n", name, float64(f.bytes)/n, float64(f.keys)/n, 100*float64(f.bytes)/float64(total), strings.Join(encs, " "))
	}
	b.Log(sb.String())
}
