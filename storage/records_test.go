package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/checkin"
	"github.com/cellbot/cellbot/internal/testenv"
	"github.com/cellbot/cellbot/storage"
)

// recordsMeeting is a cell of ten members (the secretary and nine more) and
// a meeting of it starting at start.
func recordsMeeting(t *testing.T, s *storage.Store, chatID int64, start time.Time) (cell.Cell, cell.Meeting) {
	t.Helper()
	ctx := context.Background()
	c := newCell(t, s, chatID)
	var ms []cell.Member
	for _, name := range []string{"Trần Văn Bình", "Lê Thị Hoa", "Phạm Văn Đức", "Hoàng Thị Mai", "Vũ Minh Sơn",
		"Đặng Thu Hà", "Bùi Quang Hải", "Đỗ Ngọc Lan", "Ngô Xuân Trường"} {
		ms = append(ms, cell.Member{Name: name, Standing: cell.Official, Participation: cell.Regular})
	}
	if _, err := s.ImportMembers(ctx, c.ID, ms); err != nil {
		t.Fatal(err)
	}
	m, _, err := s.CreateMeeting(ctx, "records:"+start.Format(time.RFC3339), cell.Meeting{CellID: c.ID, Kind: cell.KindRegular, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// bySecond is t as the short records keep it: whole seconds.
func bySecond(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Unix(t.Unix(), 0).UTC()
}

// TestRecordsRoundTrip: every kind of answer and every mark written by the
// store reads back the same (times to the second, the member from the hash
// field), by SetAnswer and by the answer script alike; what members commonly
// give stays under Redis's 64-byte listpack limit, so a meeting's hashes stay
// listpacks; what the short form cannot say is kept as the previous JSON.
func TestRecordsRoundTrip(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	k := s.Keys()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2031, 3, 5, 19, 0, 0, 0, hcm)
	c, m := recordsMeeting(t, s, -5001, start)
	at := time.Date(2031, 3, 2, 8, 41, 7, 123456789, hcm) // time.Now has nanoseconds
	long := ""
	for utf8.RuneCountInString(long) < cell.MaxReasonLen {
		long += "Đi công tác <Hà Nội> & về muộn; "
	}
	long = string([]rune(long)[:cell.MaxReasonLen])

	answers := []struct {
		name   string
		a      cell.Answer
		length string // "short" under 64 bytes, "long" longer, "json" the previous form
	}{
		{"coming", cell.Answer{Kind: cell.Coming, At: at}, "short"},
		{"unsure", cell.Answer{Kind: cell.Unsure, At: at}, "short"},
		{"excused, no reason yet", cell.Answer{Kind: cell.Excused, At: at}, "short"},
		{"excused, work", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonWork, At: at}, "short"},
		{"excused, illness", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonIllness, At: at}, "short"},
		{"excused, family", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonFamily, At: at}, "short"},
		{"excused, other without text", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, At: at}, "short"},
		{"excused, other in Vietnamese", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "Đi khám bệnh định kỳ ở tỉnh", At: at}, "short"},
		{"a reason that begins with digits", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "3 ngày về quê", At: at}, "short"},
		{"a reason of two lines", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "Con ốm\nxin phép", At: at}, "short"},
		{"a reason of the longest", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: long, At: at}, "long"},
		{"a zero time", cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "12 giờ trực", At: time.Time{}}, "short"},
		{"a kind the short form has no letter for", cell.Answer{Kind: "maybe", At: at}, "json"},
		{"a reason text without a reason", cell.Answer{Kind: cell.Excused, ReasonText: "không rõ", At: at}, "json"},
	}
	for i, tt := range answers {
		t.Run("answer/"+tt.name, func(t *testing.T) {
			id := int64(100 + i)
			want := tt.a
			want.MemberID, want.At = id, bySecond(tt.a.At)
			if tt.length == "json" {
				want.At = tt.a.At // the previous form keeps the time whole
			}
			// By SetAnswer, and by the answer script under another member.
			if err := s.SetAnswer(ctx, c.ID, m.ID, id, tt.a); err != nil {
				t.Fatal(err)
			}
			scripted := tt.a
			scripted.MemberID = id + 1000
			if _, err := s.Answer(ctx, c.ID, m.ID, scripted, start.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			got, err := s.Answers(ctx, c.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got[id]); diff != "" {
				t.Errorf("by SetAnswer (-want +got):\n%s", diff)
			}
			want.MemberID = id + 1000
			if diff := cmp.Diff(want, got[id+1000]); diff != "" {
				t.Errorf("by the answer script (-want +got):\n%s", diff)
			}
			checkLength(t, rdb.HGet(ctx, k.Answers(c.ID, m.ID), field(id)).Val(), tt.length)
		})
	}

	presences := []struct {
		name   string
		p      cell.Presence
		length string
	}{
		{"by code", cell.Presence{Mark: cell.PresentByCode, At: at}, "short"},
		{"by QR", cell.Presence{Mark: cell.PresentByQR, At: at}, "short"},
		{"by card", cell.Presence{Mark: cell.PresentByCard, At: at}, "short"},
		{"by roll call", cell.Presence{Mark: cell.PresentByRollCall, At: at}, "short"},
		{"marked absent", cell.Presence{Mark: cell.MarkedAbsent, At: at}, "short"},
		{"a zero time", cell.Presence{Mark: cell.PresentByRollCall}, "short"},
		{"a mark the short form has no letter for", cell.Presence{Mark: "late", At: at}, "json"},
	}
	for i, tt := range presences {
		t.Run("presence/"+tt.name, func(t *testing.T) {
			p := tt.p
			p.MemberID = int64(200 + i)
			want := p
			if tt.length != "json" {
				want.At = bySecond(p.At)
			}
			if err := s.SetPresence(ctx, c.ID, m.ID, p); err != nil {
				t.Fatal(err)
			}
			got, err := s.Presences(ctx, c.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got[p.MemberID]); diff != "" {
				t.Errorf("presence (-want +got):\n%s", diff)
			}
			if got[p.MemberID].Present() != tt.p.Present() {
				t.Errorf("present = %v, want %v", got[p.MemberID].Present(), tt.p.Present())
			}
			checkLength(t, rdb.HGet(ctx, k.Presence(c.ID, m.ID), field(p.MemberID)).Val(), tt.length)
		})
	}

	// A meeting of 51 members answering and coming as they commonly do keeps
	// its answers and presence as listpacks.
	t.Run("a meeting's hashes stay listpacks", func(t *testing.T) {
		c, m := recordsMeeting(t, s, -5002, start)
		reasons := []string{"Đi công tác Hà Nội", "Con nhỏ bị ốm", "Đi khám bệnh định kỳ", "Về quê có việc gia đình"}
		for id := int64(1); id <= 51; id++ {
			a := cell.Answer{Kind: cell.Coming, At: at.Add(time.Duration(id) * time.Minute)}
			if id%5 == 0 {
				a.Kind, a.Reason, a.ReasonText = cell.Excused, cell.ReasonOther, reasons[id%4]
			}
			if err := s.SetAnswer(ctx, c.ID, m.ID, id, a); err != nil {
				t.Fatal(err)
			}
			marks := []cell.PresenceMark{cell.PresentByCode, cell.PresentByQR, cell.PresentByRollCall, cell.MarkedAbsent, cell.PresentByCard}
			if err := s.SetPresence(ctx, c.ID, m.ID, cell.Presence{MemberID: id, Mark: marks[id%5], At: start.Add(-time.Duration(id) * time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, key := range []string{k.Answers(c.ID, m.ID), k.Presence(c.ID, m.ID)} {
			if enc := rdb.ObjectEncoding(ctx, key).Val(); enc != "listpack" {
				t.Errorf("%s is a %s, want a listpack", key, enc)
			}
		}
	})
}

// field is a member's field in a meeting's hashes.
func field(id int64) string { return strconv.FormatInt(id, 10) }

// checkLength checks a stored record's form: "short" and "long" are the short
// form, the first under 64 bytes; "json" is the previous form.
func checkLength(t *testing.T, raw, length string) {
	t.Helper()
	switch {
	case raw == "":
		t.Errorf("nothing stored")
	case length == "json" && !strings.HasPrefix(raw, "{"):
		t.Errorf("stored %q, want the previous JSON form", raw)
	case length != "json" && strings.HasPrefix(raw, "{"):
		t.Errorf("stored %q, want the short form", raw)
	case length == "short" && len(raw) >= 64:
		t.Errorf("stored %q, %d bytes, want under 64", raw, len(raw))
	}
}

// TestRecordsPreviousVersion: answers and presence the previous version left
// (the JSON of cell.Answer and cell.Presence, times with nanoseconds and a
// zone) are read as they were by every way in: the store's reads, a check-in
// over them, /close's outcomes, corrections, the export, and an import of
// that export, which writes them short.
func TestRecordsPreviousVersion(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	k := s.Keys()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2030, 11, 5, 19, 0, 0, 0, hcm)
	c, m := recordsMeeting(t, s, -5101, start)
	at := time.Date(2030, 11, 2, 21, 3, 4, 987654321, hcm)
	ck := start.Add(-10 * time.Minute).Add(123 * time.Millisecond)

	// Members 1–10: what the previous version stored for each, and what the
	// meeting means for them at /close.
	type member struct {
		answer   *cell.Answer
		presence *cell.Presence
		outcome  cell.Outcome
	}
	members := map[int64]member{
		1:  {presence: &cell.Presence{Mark: cell.PresentByRollCall, At: ck}, outcome: cell.OutcomePresent},
		2:  {answer: &cell.Answer{Kind: cell.Coming, At: at}, presence: &cell.Presence{Mark: cell.PresentByCode, At: ck}, outcome: cell.OutcomePresent},
		3:  {answer: &cell.Answer{Kind: cell.Coming, At: at}, presence: &cell.Presence{Mark: cell.PresentByQR, At: ck}, outcome: cell.OutcomePresent},
		4:  {answer: &cell.Answer{Kind: cell.Excused, Reason: cell.ReasonIllness, At: at}, outcome: cell.OutcomeExcused},
		5:  {answer: &cell.Answer{Kind: cell.Excused, Reason: cell.ReasonOther, ReasonText: "Đi khám bệnh định kỳ ở tỉnh <xa>", At: at}, outcome: cell.OutcomeExcused},
		6:  {answer: &cell.Answer{Kind: cell.Unsure, At: at}, presence: &cell.Presence{Mark: cell.MarkedAbsent, At: ck}, outcome: cell.OutcomeAbsent},
		7:  {answer: &cell.Answer{Kind: cell.Coming, At: at}, presence: &cell.Presence{Mark: cell.MarkedAbsent, At: ck}, outcome: cell.OutcomeAbsent},
		8:  {answer: &cell.Answer{Kind: cell.Excused, At: at}, presence: &cell.Presence{Mark: cell.PresentByCard, At: ck}, outcome: cell.OutcomePresent},
		9:  {outcome: cell.OutcomeAbsent},
		10: {answer: &cell.Answer{Kind: cell.Excused, Reason: cell.ReasonFamily, At: at}, outcome: cell.OutcomeExcused},
	}
	stored := map[string]map[string]string{k.Answers(c.ID, m.ID): {}, k.Presence(c.ID, m.ID): {}}
	for id, mem := range members {
		if mem.answer != nil {
			mem.answer.MemberID = id
			data, _ := json.Marshal(*mem.answer)
			stored[k.Answers(c.ID, m.ID)][field(id)] = string(data)
		}
		if mem.presence != nil {
			mem.presence.MemberID = id
			data, _ := json.Marshal(*mem.presence)
			stored[k.Presence(c.ID, m.ID)][field(id)] = string(data)
		}
	}
	for key, h := range stored {
		if err := rdb.HSet(ctx, key, h).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// Read as they were, to the nanosecond.
	answers, err := s.Answers(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	pres, err := s.Presences(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for id, mem := range members {
		if a, ok := answers[id]; (mem.answer != nil) != ok || (ok && cmp.Diff(*mem.answer, a) != "") {
			t.Errorf("member %d: answer %+v, want %+v", id, a, mem.answer)
		}
		if p, ok := pres[id]; (mem.presence != nil) != ok || (ok && cmp.Diff(*mem.presence, p) != "") {
			t.Errorf("member %d: presence %+v, want %+v", id, p, mem.presence)
		}
	}

	// Check-in over what the previous version recorded: a member present
	// keeps their first record; one marked absent, or with none, is checked in.
	if _, err := s.OpenRotatingCheckin(ctx, c.ID, m.ID, checkin.NewKey(), start.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	open, err := s.CheckinState(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := start.Add(-5 * time.Minute)
	checkins := []struct {
		name    string
		member  int64
		already bool
	}{
		{"present by code before", 2, true},
		{"present by QR before", 3, true},
		{"present by card before", 8, true},
		{"present by roll call before", 1, true},
		{"marked absent before", 6, false},
		{"nothing before", 9, false},
	}
	for _, tt := range checkins {
		t.Run("check-in/"+tt.name, func(t *testing.T) {
			before := rdb.HGet(ctx, k.Presence(c.ID, m.ID), field(tt.member)).Val()
			_, already, err := s.CheckInRotating(ctx, c.ID, open, cell.Presence{MemberID: tt.member, Mark: cell.PresentByQR, At: now}, "", nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if already != tt.already {
				t.Errorf("already present = %v, want %v", already, tt.already)
			}
			after := rdb.HGet(ctx, k.Presence(c.ID, m.ID), field(tt.member)).Val()
			if tt.already && after != before {
				t.Errorf("the first record %q became %q", before, after)
			}
			if !tt.already && strings.HasPrefix(after, "{") {
				t.Errorf("checked in as %q, want the short form", after)
			}
		})
	}
	// Member 6 came after all, and member 9 too: the outcomes follow.
	members[6] = member{answer: members[6].answer, presence: &cell.Presence{MemberID: 6, Mark: cell.PresentByQR, At: bySecond(now)}, outcome: cell.OutcomePresent}
	members[9] = member{presence: &cell.Presence{MemberID: 9, Mark: cell.PresentByQR, At: bySecond(now)}, outcome: cell.OutcomePresent}

	// /close: the summary the bot works out from what the store reads.
	roster, err := s.Members(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	summarize := func(extra map[int64]cell.Correction) cell.Summary {
		t.Helper()
		answers, err := s.Answers(ctx, c.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		pres, err := s.Presences(ctx, c.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		var as []cell.Answer
		for id, a := range answers {
			a.MemberID = id
			as = append(as, a)
		}
		var ps []cell.Presence
		for _, p := range pres {
			ps = append(ps, p)
		}
		as, ps = cell.Correct(as, ps, extra)
		return cell.Summarize(start, roster, as, ps, nil, 0)
	}
	sum := summarize(nil)
	want := map[int64]cell.Outcome{}
	for id, mem := range members {
		want[id] = mem.outcome
	}
	if diff := cmp.Diff(want, sum.Outcomes); diff != "" {
		t.Errorf("outcomes at /close (-want +got):\n%s", diff)
	}
	if got := sum.Excused; len(got) != 3 || sum.ByReason[cell.ReasonOther] != 1 || sum.ByReason[cell.ReasonIllness] != 1 {
		t.Errorf("excused %+v, by reason %v", got, sum.ByReason)
	}
	if err := s.SetOutcomes(ctx, c.ID, m.ID, sum.Outcomes); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMeeting(ctx, c.ID, m.ID, func(m *cell.Meeting) error { m.State = cell.StateClosed; return nil }); err != nil {
		t.Fatal(err)
	}

	// Corrections over those records: member 7, who said coming and was
	// marked absent, was ill; member 4, excused, came after all.
	corrections := []struct {
		member int64
		c      cell.Correction
		from   cell.Outcome
	}{
		{7, cell.Correction{To: cell.OutcomeExcused, Reason: cell.ReasonIllness}, cell.OutcomeAbsent},
		{4, cell.Correction{To: cell.OutcomePresent}, cell.OutcomeExcused},
	}
	for _, tt := range corrections {
		tt.c.MemberID, tt.c.By, tt.c.At = tt.member, 1, start.Add(48*time.Hour)
		from, err := s.Correct(ctx, c.ID, m.ID, tt.c)
		if err != nil || from != tt.from {
			t.Errorf("correct member %d: from %s, %v; want %s", tt.member, from, err, tt.from)
		}
		want[tt.member] = tt.c.To
	}
	cs, err := s.Corrections(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, summarize(cs).Outcomes); diff != "" {
		t.Errorf("outcomes after the corrections (-want +got):\n%s", diff)
	}

	// The export has the previous records as they are, the ones written
	// since as the JSON of their type.
	e, err := s.ExportCell(ctx, c.ID, start.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Meetings) != 1 {
		t.Fatalf("%d meetings exported, want 1", len(e.Meetings))
	}
	exported := map[string]map[string]json.RawMessage{"answers": e.Meetings[0].Answers, "presence": e.Meetings[0].Presence}
	for id, mem := range members {
		f := field(id)
		wantA, wantP := "", ""
		if mem.answer != nil {
			wantA = stored[k.Answers(c.ID, m.ID)][f]
		}
		if id == 6 || id == 9 { // checked in since, by this version
			data, _ := json.Marshal(cell.Presence{MemberID: id, Mark: cell.PresentByQR, At: bySecond(now)})
			wantP = string(data)
		} else if mem.presence != nil {
			wantP = stored[k.Presence(c.ID, m.ID)][f]
		}
		if got := string(exported["answers"][f]); got != wantA {
			t.Errorf("member %d's answer exported as %s, want %s", id, got, wantA)
		}
		if got := string(exported["presence"][f]); got != wantP {
			t.Errorf("member %d's presence exported as %s, want %s", id, got, wantP)
		}
	}

	// Imported elsewhere, they are written short and read the same, to the
	// second.
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	rdb2, prefix2 := testenv.RedisEnv(t)
	s2 := storage.New(rdb2, prefix2)
	var in storage.CellExport
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatal(err)
	}
	if err := s2.ImportCell(ctx, &in); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{s2.Keys().Answers(c.ID, m.ID), s2.Keys().Presence(c.ID, m.ID)} {
		h, err := rdb2.HGetAll(ctx, key).Result()
		if err != nil || len(h) == 0 {
			t.Fatalf("%s: %v, %v", key, h, err)
		}
		for f, v := range h {
			if strings.HasPrefix(v, "{") {
				t.Errorf("%s field %s imported as %s, want the short form", key, f, v)
			}
		}
	}
	answers2, err := s2.Answers(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	pres2, err := s2.Presences(ctx, c.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	answers, _ = s.Answers(ctx, c.ID, m.ID)
	pres, _ = s.Presences(ctx, c.ID, m.ID)
	for id, a := range answers {
		a.At = bySecond(a.At)
		if diff := cmp.Diff(a, answers2[id]); diff != "" {
			t.Errorf("member %d's answer after import (-before +after):\n%s", id, diff)
		}
	}
	for id, p := range pres {
		p.At = bySecond(p.At)
		if diff := cmp.Diff(p, pres2[id]); diff != "" {
			t.Errorf("member %d's presence after import (-before +after):\n%s", id, diff)
		}
	}
	if len(answers2) != len(answers) || len(pres2) != len(pres) {
		t.Errorf("imported %d answers and %d presences, want %d and %d", len(answers2), len(pres2), len(answers), len(pres))
	}
}

// TestRecordsUnreadable: a record neither form reads is an error, not a
// wrong answer.
func TestRecordsUnreadable(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.RedisEnv(t)
	s := storage.New(rdb, prefix)
	k := s.Keys()
	tests := []struct {
		name, key, value string
		read             func() error
	}{
		{"an answer of an unknown letter", k.Answers(1, 1), "x1812345678", func() error { _, err := s.Answers(ctx, 1, 1); return err }},
		{"an answer of an unknown reason", k.Answers(1, 2), "e1812345678z", func() error { _, err := s.Answers(ctx, 1, 2); return err }},
		{"broken JSON", k.Answers(1, 3), `{"kind":`, func() error { _, err := s.Answers(ctx, 1, 3); return err }},
		{"a presence with more after the time", k.Presence(1, 4), "q1812345678x", func() error { _, err := s.Presences(ctx, 1, 4); return err }},
		{"an empty presence", k.Presence(1, 5), "", func() error { _, err := s.Presences(ctx, 1, 5); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := rdb.HSet(ctx, tt.key, "3", tt.value).Err(); err != nil {
				t.Fatal(err)
			}
			if err := tt.read(); err == nil || errors.Is(err, redis.Nil) {
				t.Errorf("read %q: %v, want an error", tt.value, err)
			}
		})
	}
}
