package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/font/sfnt"

	"github.com/cellbot/cellbot/internal/texts"
)

func TestChart(t *testing.T) {
	tests := []struct {
		name string
		lang string
		f    Figures
	}{
		{"quarter_vi", "vi", Compute(quarter(t))},
		{"quarter_en", "en", Compute(quarter(t))},
		{"year_vi", "vi", Compute(largeYear(t))},
		{"weekly_en", "en", weekly(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Chart(tt.lang, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if cfg.Width != ChartWidth || cfg.Height != ChartHeight {
				t.Errorf("chart is %d×%d, want %d×%d", cfg.Width, cfg.Height, ChartWidth, ChartHeight)
			}
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			// A photo goes up to 10 MB; this one should be tens of kB.
			if len(data) > 1<<20 {
				t.Errorf("chart of %d bytes", len(data))
			}
			if dir := os.Getenv("REPORT_CHART_DIR"); dir != "" { // to look at it
				_ = os.WriteFile(filepath.Join(dir, "chart_"+tt.name+".png"), data, 0o644)
			}
		})
	}
}

// The embedded fonts draw every Vietnamese letter, and every letter of the
// chart's words and the fixture's names: none falls back to a missing glyph.
func TestFontsCoverVietnamese(t *testing.T) {
	f := Compute(quarter(t))
	want := "aăâbcdđeêghiklmnoôơpqrstuưvxy" +
		"àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ" +
		"AĂÂĐÊÔƠƯÀẢÃÁẠẰẲẴẮẶẦẨẪẤẬÈẺẼÉẸỀỂỄẾỆÌỈĨÍỊÒỎÕÓỌỒỔỖỐỘỜỞỠỚỢÙỦŨÚỤỪỬỮỨỰỲỶỸÝỴ0123456789%/·:"
	for _, lang := range []string{"vi", "en"} {
		want += texts.T(lang, texts.ReportChartTitle, f.Cell, f.Period.Label(lang)) +
			texts.T(lang, texts.ReportChartAxis) + texts.T(lang, texts.ReportChartTarget, 85) +
			texts.T(lang, texts.MeetingKindRegular) + texts.T(lang, texts.MeetingKindTopical)
	}
	for name, ttf := range map[string][]byte{"regular": sansRegular, "bold": sansBold} {
		fnt, err := sfnt.Parse(ttf)
		if err != nil {
			t.Fatal(err)
		}
		var buf sfnt.Buffer
		missing := map[rune]bool{}
		for _, r := range want {
			if r == ' ' {
				continue
			}
			if i, err := fnt.GlyphIndex(&buf, r); err != nil || i == 0 {
				missing[r] = true
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s font lacks %d letters: %q", name, len(missing), keys(missing))
		}
	}
}

func keys(m map[rune]bool) string {
	var s []rune
	for r := range m {
		s = append(s, r)
	}
	return string(s)
}

// weekly is a year of 52 meetings, more than the chart can label one by one.
func weekly(t *testing.T) Figures {
	d := quarter(t)
	d.Period = YearPeriod(2026, hcm)
	base := d.Meetings[0]
	d.Meetings = nil
	for i := range 52 {
		m := base
		m.Meeting.ID = int64(200 + i)
		m.Meeting.Start = at(5, 1, 19, 30).AddDate(0, 0, 7*i)
		d.Meetings = append(d.Meetings, m)
	}
	return Compute(d)
}
