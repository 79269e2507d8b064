package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image/color"
	"strconv"
	"sync"
	"time"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

// Liberation Sans 2, SIL Open Font License 1.1 (fonts/LICENSE-OFL.txt): it
// has the Vietnamese letters the Go fonts lack (see the package comment).
var (
	//go:embed fonts/LiberationSans-Regular.ttf
	sansRegular []byte
	//go:embed fonts/LiberationSans-Bold.ttf
	sansBold []byte
)

// The chart's size in pixels: 16:9, sharp on a phone, a few tens of kB.
const (
	ChartWidth  = 800
	ChartHeight = 450
	chartDPI    = 96
)

// ErrNoMeetings is returned by Chart for a period without closed meetings:
// there is nothing to draw.
var ErrNoMeetings = errors.New("report: no closed meetings in the period")

// chartTypeface names the embedded font in the package's own font cache.
const chartTypeface font.Typeface = "cellbot-sans"

// fonts is the package's font cache, parsed once; plot's global cache is left
// alone.
var fonts = sync.OnceValues(func() (*font.Cache, error) {
	reg, err := opentype.Parse(sansRegular)
	if err != nil {
		return nil, fmt.Errorf("report: parse embedded font: %w", err)
	}
	bold, err := opentype.Parse(sansBold)
	if err != nil {
		return nil, fmt.Errorf("report: parse embedded bold font: %w", err)
	}
	return font.NewCache(font.Collection{
		{Font: font.Font{Typeface: chartTypeface}, Face: reg},
		{Font: font.Font{Typeface: chartTypeface, Weight: xfont.WeightBold}, Face: bold},
	}), nil
})

// Colours of the chart.
var (
	colorRegular = color.RGBA{R: 0x1f, G: 0x6f, B: 0xb4, A: 0xff} // blue
	colorTopical = color.RGBA{R: 0xe0, G: 0x8a, B: 0x1e, A: 0xff} // amber
	colorTarget  = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff} // red
)

// Chart is a PNG of ChartWidth×ChartHeight pixels: the attendance rate of
// each closed meeting as a bar (regular and topical meetings in two colours,
// the percentage above each bar, the date below), and the target as a dashed
// line, titled with the cell and the period in lang. It returns ErrNoMeetings
// when f has no meetings.
func Chart(lang string, f Figures) ([]byte, error) {
	if len(f.Meetings) == 0 {
		return nil, ErrNoMeetings
	}
	cache, err := fonts()
	if err != nil {
		return nil, err
	}
	hdlr := text.Plain{Fonts: cache}
	// use keeps plot's layout of a text (alignment, rotation) and swaps in
	// the embedded font.
	use := func(s *text.Style, size vg.Length, bold bool) {
		s.Handler = hdlr
		s.Font = font.Font{Typeface: chartTypeface, Size: size}
		if bold {
			s.Font.Weight = xfont.WeightBold
		}
	}

	p := plot.New()
	p.TextHandler = hdlr
	use(&p.Title.TextStyle, 14, true)
	p.Title.Text = texts.T(lang, texts.ReportChartTitle, f.Cell, f.Period.Label(lang))
	p.Title.Padding = vg.Points(6)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		use(&ax.Label.TextStyle, 11, false)
		use(&ax.Tick.Label, 10, false)
	}
	use(&p.Legend.TextStyle, 10, false)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(3)
	p.Legend.XOffs = vg.Points(8)

	p.Y.Label.Text = texts.T(lang, texts.ReportChartAxis)
	p.Y.Min, p.Y.Max = 0, 135 // room above a full bar for its label and the legend
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{
		{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"},
		{Value: 75, Label: "75"}, {Value: 100, Label: "100"},
	})
	p.Add(plotter.NewGrid())

	n := len(f.Meetings)
	barWidth := vg.Length(min(48, 300/n)) // points: wide bars for a quarter, thin ones for a year
	// Past 8 meetings (a cell meeting more than monthly in a year), dates
	// written in full would overlap: every step-th date is written. Past 16
	// (a cell meeting weekly), so would the percentages: none is written.
	step := (n + 7) / 8
	percentages := n <= 16
	starts := make([]time.Time, n)
	for i, m := range f.Meetings {
		starts[i] = m.Start
	}
	full := meetingDates(starts, "\n")
	dates := make([]string, n)
	var labels plotter.XYLabels
	var legendRegular, legendTopical bool
	for i, m := range f.Meetings {
		if i%step == 0 {
			dates[i] = full[i]
		}
		rate := 0.0
		if m.Expected > 0 {
			rate = 100 * float64(m.Present) / float64(m.Expected)
		}
		bar, err := plotter.NewBarChart(plotter.Values{rate}, barWidth)
		if err != nil {
			return nil, fmt.Errorf("report: chart bar: %w", err)
		}
		bar.XMin = float64(i)
		bar.LineStyle.Width = 0
		bar.Color = colorRegular
		if m.Kind == cell.KindTopical {
			bar.Color = colorTopical
		}
		p.Add(bar)
		switch {
		case m.Kind == cell.KindTopical && !legendTopical:
			p.Legend.Add(texts.T(lang, texts.MeetingKindTopical), bar)
			legendTopical = true
		case m.Kind != cell.KindTopical && !legendRegular:
			p.Legend.Add(texts.T(lang, texts.MeetingKindRegular), bar)
			legendRegular = true
		}
		if percentages {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: rate + 1})
			labels.Labels = append(labels.Labels, strconv.Itoa(m.Percent)+"%")
		}
	}
	p.NominalX(dates...)
	p.X.Min, p.X.Max = -0.6, float64(n)-0.4

	target, err := plotter.NewLine(plotter.XYs{{X: -0.6, Y: float64(f.Target)}, {X: float64(n) - 0.4, Y: float64(f.Target)}})
	if err != nil {
		return nil, fmt.Errorf("report: chart target line: %w", err)
	}
	target.LineStyle.Color = colorTarget
	target.LineStyle.Width = vg.Points(2)
	target.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(target)
	p.Legend.Add(texts.T(lang, texts.ReportChartTarget, f.Target), target)

	if len(labels.Labels) > 0 {
		lbl, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, fmt.Errorf("report: chart labels: %w", err)
		}
		for i := range lbl.TextStyle {
			use(&lbl.TextStyle[i], 10, true)
			lbl.TextStyle[i].XAlign = draw.XCenter
		}
		p.Add(lbl)
	}

	c := vgimg.NewWith(
		vgimg.UseWH(ChartWidth*vg.Inch/chartDPI, ChartHeight*vg.Inch/chartDPI),
		vgimg.UseDPI(chartDPI),
	)
	p.Draw(draw.Crop(draw.New(c), vg.Points(6), -vg.Points(14), vg.Points(4), -vg.Points(6)))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: encode chart: %w", err)
	}
	return buf.Bytes(), nil
}
