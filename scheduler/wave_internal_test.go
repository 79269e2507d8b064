package scheduler

import (
	"cmp"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/storage"
)

// TestWavePlacement: where the planner puts a round, alone or behind others,
// and that no bucket is given more than the rate.
func TestWavePlacement(t *testing.T) {
	now := time.Date(2027, 4, 3, 10, 0, 0, 0, time.UTC)
	due := now.Add(3 * time.Hour)
	tests := []struct {
		name      string
		rate      float64 // messages a second
		reserved  storage.WaveLoad
		rounds    []float64 // messages of each round, all due at due
		due       time.Time
		wantStart time.Duration // the last round's start, before due (± one bucket)
		wantEnd   time.Duration // its end, before due (± one bucket); 0: WaveMargin
		quiet     cellQuiet
	}{
		{name: "one round is spread over the half hour", rate: 29, rounds: []float64{53}, due: due, wantStart: Spread},
		{name: "rounds that fit share the half hour", rate: 29, rounds: repeat(53, 100), due: due, wantStart: Spread},
		{
			// 3,000 messages at 1 a second: 1,785 s of the half hour hold
			// 1,775 of them (one bucket's worth short, whole buckets); the
			// rest starts 1,225 s earlier.
			name: "a round larger than the rate allows starts earlier", rate: 1, rounds: []float64{3000}, due: due,
			wantStart: WaveMargin + 3000*time.Second,
		},
		{
			name: "what was reserved before is kept", rate: 1, due: due, rounds: []float64{100},
			reserved:  fill(storage.WaveBucketOf(due.Add(-30*time.Minute)), storage.WaveBucketOf(due), 10),
			wantStart: Spread + 100*time.Second, wantEnd: Spread,
		},
		{name: "a round due too soon for its size starts now", rate: 1, rounds: []float64{500}, due: now.Add(2 * time.Minute), wantStart: 2 * time.Minute},
		{
			// Due 07:10 in Hà Nội, quiet hours until 07:00: the 57 buckets
			// from 07:00 hold 57 × 5.67 of 1,000 at 1 a second; the other
			// 677 go before 22:00 the evening before, 68 buckets of 10.
			name: "quiet hours are skipped, the rest goes before them", rate: 1, rounds: []float64{1000},
			due:       time.Date(2027, 4, 4, 0, 10, 0, 0, time.UTC),
			quiet:     cellQuiet{hours: mustQuiet(t, "22:00-07:00"), loc: time.FixedZone("ICT", 7*3600)},
			wantStart: 9*time.Hour + 10*time.Minute + 680*time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newWavePlan(now, tt.rate, tt.reserved)
			var r placed
			for _, n := range tt.rounds {
				r = p.place(tt.due, n, tt.quiet)
				sum := 0.0
				for _, v := range r.taken {
					sum += v
				}
				if math.Abs(sum-n) > 1e-6 {
					t.Fatalf("a round of %v took %v", n, sum)
				}
			}
			got := tt.due.Sub(r.start)
			if d := got - tt.wantStart; d < -storage.WaveBucket || d > storage.WaveBucket {
				t.Errorf("the last round starts %v before its due time; want %v", got, tt.wantStart)
			}
			wantEnd := cmp.Or(tt.wantEnd, WaveMargin)
			if d := tt.due.Sub(r.end) - wantEnd; d < -storage.WaveBucket || d > storage.WaveBucket {
				t.Errorf("the round ends %v before its due time; want %v", tt.due.Sub(r.end), wantEnd)
			}
			for b := range r.taken {
				if _, in := tt.quiet.began(storage.WaveBucketStart(b)); in {
					t.Errorf("bucket %v, in quiet hours, was given %v", storage.WaveBucketStart(b).In(tt.quiet.loc), r.taken[b])
				}
			}
			for b, left := range p.left {
				if b != p.first && left < -1e-6 {
					t.Errorf("bucket %v holds %v more than the rate allows", storage.WaveBucketStart(b), -left)
				}
			}
		})
	}
}

func repeat(n float64, times int) []float64 {
	out := make([]float64, times)
	for i := range out {
		out[i] = n
	}
	return out
}

// fill reserves n in each bucket from a to b.
func fill(a, b int64, n float64) storage.WaveLoad {
	out := storage.WaveLoad{}
	for i := a; i <= b; i++ {
		out[i] = n
	}
	return out
}

// TestReleases: a round's reminders follow its plan, bucket by bucket, and
// a release time in the cell's quiet hours moves to their end.
func TestReleases(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	now := time.Date(2027, 4, 3, 5, 40, 0, 0, loc)
	b := storage.WaveBucketOf(now)
	tests := []struct {
		name  string
		n     int
		quiet string
		plan  storage.WavePlan
		want  []time.Duration
	}{
		{
			name: "evenly within one bucket", n: 2, quiet: "00:00-00:00",
			plan: storage.WavePlan{End: storage.WaveBucketStart(b + 1), Taken: storage.WaveLoad{b: 2}},
			want: []time.Duration{2500 * time.Millisecond, 7500 * time.Millisecond},
		},
		{
			// Nothing in the buckets between: none goes there.
			name: "as the buckets hold them", n: 4, quiet: "00:00-00:00",
			plan: storage.WavePlan{End: storage.WaveBucketStart(b + 10), Taken: storage.WaveLoad{b: 1, b + 9: 3}},
			want: []time.Duration{5 * time.Second, 90*time.Second + 10*time.Second/6, 95 * time.Second, 90*time.Second + 50*time.Second/6},
		},
		{
			name: "more members than planned share the plan", n: 2, quiet: "00:00-00:00",
			plan: storage.WavePlan{End: storage.WaveBucketStart(b + 2), Taken: storage.WaveLoad{b: 0.5, b + 1: 0.5}},
			want: []time.Duration{5 * time.Second, 15 * time.Second},
		},
		{
			name: "not in quiet hours", n: 2, quiet: "22:00-06:00",
			plan: storage.WavePlan{End: storage.WaveBucketStart(b + 240), Taken: storage.WaveLoad{b: 1, b + 239: 1}},
			want: []time.Duration{20 * time.Minute, 39*time.Minute + 55*time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := releases(tt.n, now, tt.plan, 0.5, mustQuiet(t, tt.quiet), loc)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("releases %v; want %v", got, want)
			}
		})
	}
}

func mustQuiet(t *testing.T, s string) cell.QuietHours {
	t.Helper()
	q, err := cell.ParseQuiet(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// BenchmarkPlace: one look of the planner at 10,000 rounds of 53 messages due
// at one moment, the Go side of it (placing them under the rate).
func BenchmarkPlace(b *testing.B) {
	now := time.Date(2027, 4, 3, 6, 0, 0, 0, time.UTC)
	due := now.Add(8 * time.Hour)
	for b.Loop() {
		p := newWavePlan(now, 28.95, nil)
		for range 10_000 {
			p.place(due, 53, cellQuiet{})
		}
	}
}
