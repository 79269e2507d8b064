// Package minutes writes the minutes draft of a meeting (biên bản sinh hoạt chi
// bộ) as a Word document, in the shape Hướng dẫn 12-HD/BTCTW gives it: the
// header, the title by kind and month or topic, times, place, chair and
// minute-taker, the attendance in full, one section per agenda item, the votes,
// the signature blocks. What the bot does not know is a dotted line for the
// secretary to fill in; nothing is invented.
//
// The document is a small WordprocessingML package: the fixed parts (content
// types, relationships, styles with Times New Roman 14 pt) are embedded as they
// are, and word/document.xml is written here with every user text escaped.
package minutes

import (
	"archive/zip"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/texts"
)

//go:embed all:template
var template embed.FS

// Draft is everything the minutes draft shows. Names are as the roster keeps
// them; an empty Chair, MinuteTaker, Place or Parent, and a zero Ended, are
// dotted lines.
type Draft struct {
	Lang        string // texts.VI (the form is Vietnamese) or texts.EN
	Parent      string // Đảng bộ …
	Cell        string
	Meeting     cell.Meeting // kind, title, start, place, agenda, ballots
	Loc         *time.Location
	Chair       string
	MinuteTaker string
	Ended       time.Time // zero: not known
	Roster      Totals
	Summary     cell.Summary
}

// Totals are the cell's members on the meeting day by standing and
// participation, attached members apart (they belong to their home cell's
// count).
type Totals struct {
	Total, Official, Probationary, Exempt, Away int
	Attached                                    []cell.Member
}

// Count works out the totals of the roster on day: members on the roster, not
// unlisted records nor off-roster operators.
func Count(roster []cell.Member, day time.Time) Totals {
	var t Totals
	for _, m := range roster {
		if m.Unlisted || m.OffRoster {
			continue
		}
		p := m.ParticipationOn(day)
		if p == cell.Attached {
			t.Attached = append(t.Attached, m)
			continue
		}
		t.Total++
		if m.Standing == cell.Probationary {
			t.Probationary++
		} else {
			t.Official++
		}
		switch p {
		case cell.Exempt:
			t.Exempt++
		case cell.Away:
			t.Away++
		}
	}
	return t
}

// FileName is the draft's file name: Bien-ban-03-04-2026.docx.
func FileName(start time.Time) string { return "Bien-ban-" + start.Format("02-01-2006") + ".docx" }

// Dots stand for what the bot does not know, inline; PlaceDots for the
// locality before the date, short enough for the header's column.
const (
	Dots      = "……………………"
	PlaceDots = "…………"
)

// Render writes the draft as a .docx file.
func Render(d Draft) ([]byte, error) {
	if d.Loc == nil {
		d.Loc = time.UTC
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := fs.WalkDir(template, "template", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := template.ReadFile(path)
		if err != nil {
			return err
		}
		return addFile(zw, strings.TrimPrefix(path, "template/"), data)
	})
	if err != nil {
		return nil, fmt.Errorf("minutes: template: %w", err)
	}
	if err := addFile(zw, "word/document.xml", []byte(document(d))); err != nil {
		return nil, fmt.Errorf("minutes: document: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("minutes: zip: %w", err)
	}
	return buf.Bytes(), nil
}

func addFile(zw *zip.Writer, name string, data []byte) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// document is word/document.xml.
func document(d Draft) string {
	t := func(key texts.Key, args ...any) string { return texts.T(d.Lang, key, args...) }
	start := d.Meeting.Start.In(d.Loc)
	var w body

	// Header: the parent organisation and the cell left, the Party right.
	parent := strings.ToUpper(d.Parent)
	if parent == "" {
		parent = Dots
	}
	w.table2(
		[]para{
			{align: "center", runs: []run{{text: parent}}},
			{align: "center", runs: []run{{text: strings.ToUpper(d.Cell), bold: true}}},
			{align: "center", runs: []run{{text: "*"}}},
			{align: "center", runs: []run{{text: t(texts.DocNumber)}}},
		},
		[]para{
			{align: "center", runs: []run{{text: t(texts.DocPartyName), bold: true, underline: true}}},
			{align: "center", runs: []run{{text: " "}}},
			{align: "center", runs: []run{{text: t(texts.DocPlaceDate, PlaceDots, start.Day(), int(start.Month()), start.Year()), italic: true}}},
		},
		false,
	)
	w.p(para{})

	// Title: by kind and month, and the topic.
	title := t(texts.DocTitleRegular, int(start.Month()), start.Year())
	if d.Meeting.Kind == cell.KindTopical {
		title = t(texts.DocTitleTopical, int(start.Month()), start.Year())
	}
	w.p(para{align: "center", runs: []run{{text: title, bold: true}}})
	switch {
	case d.Meeting.Title != "" && d.Meeting.Kind == cell.KindTopical:
		w.p(para{align: "center", runs: []run{{text: t(texts.DocTopic, d.Meeting.Title), bold: true}}})
	case d.Meeting.Title != "":
		w.p(para{align: "center", runs: []run{{text: t(texts.DocSubject, d.Meeting.Title), bold: true}}})
	}
	w.p(para{})

	w.text(t(texts.DocStart, start.Hour(), start.Minute(), start.Day(), int(start.Month()), start.Year()))
	w.text(t(texts.DocPlace, orDots(d.Meeting.Place)))
	w.text(t(texts.DocChair, comrade(d, d.Chair)))
	w.text(t(texts.DocMinuteTaker, comrade(d, d.MinuteTaker)))

	// I. Attendance, in the figures and names of the summary.
	s, r := d.Summary, d.Roster
	w.heading(t(texts.DocAttendanceHead))
	w.bullet(t(texts.DocTotal, r.Total, r.Official, r.Probationary, r.Exempt, r.Away))
	if len(r.Attached) > 0 {
		w.bullet(t(texts.DocAttached, len(r.Attached), names(r.Attached)))
	}
	w.bullet(t(texts.DocExpected, s.Expected))
	if len(s.PresentAttached) > 0 {
		// Attached members who came are listed apart: they are not of this
		// cell's total.
		w.bullet(t(texts.DocPresentWithAttached, s.PresentExpected(), len(s.PresentOfficial), len(s.PresentProbationary), len(s.PresentAttached)))
	} else {
		w.bullet(t(texts.DocPresent, s.PresentExpected(), len(s.PresentOfficial), len(s.PresentProbationary)))
	}
	if len(s.PresentOfficial) > 0 {
		w.sub(t(texts.DocPresentOfficial, list(s.PresentOfficial)))
	}
	if len(s.PresentProbationary) > 0 {
		w.sub(t(texts.DocPresentProbation, list(s.PresentProbationary)))
	}
	if len(s.PresentAttached) > 0 {
		w.sub(t(texts.DocPresentAttached, list(s.PresentAttached)))
	}
	excused := make([]string, len(s.Excused))
	for i, e := range s.Excused {
		excused[i] = e.Member.Name + " (" + reasonText(d.Lang, e) + ")"
	}
	w.bullet(t(texts.DocExcused, len(s.Excused), colonList(excused)))
	w.bullet(t(texts.DocAbsent, len(s.AbsentNoReason), names(s.AbsentNoReason)))
	w.bullet(t(texts.DocNotExpected, len(s.PresentNotExpected), names(s.PresentNotExpected)))
	guests := make([]string, len(s.Guests))
	for i, g := range s.Guests {
		guests[i] = g.Name
		if g.Title != "" {
			guests[i] += " — " + g.Title
		}
	}
	w.bullet(t(texts.DocGuests, len(s.Guests), colonList(guests)))
	met := t(texts.CloseTargetMissed)
	if s.MeetsTarget() {
		met = t(texts.CloseTargetMet)
	}
	w.bullet(t(texts.DocRate, Rate(d.Lang, s), s.PresentExpected(), s.Expected, s.TargetPercent, met))
	v := s.Vote
	w.bullet(t(texts.DocVoteBase, v.Official, v.Away, v.ExemptAbsent, v.Excused, v.Base, v.Threshold))

	// II. One section per agenda item, with room to write.
	w.heading(t(texts.DocContentHead))
	if len(d.Meeting.Agenda) == 0 {
		w.text(t(texts.DocNoAgenda))
		w.dotted(8)
	}
	for i, item := range d.Meeting.Agenda {
		w.p(para{runs: []run{{text: fmt.Sprintf("%d. %s", i+1, item), bold: true}}})
		w.dotted(5)
	}

	// III. The votes, with their figures and outcome.
	w.heading(t(texts.DocVotesHead))
	if len(d.Meeting.Ballots) == 0 {
		w.dotted(3)
	}
	for i, b := range d.Meeting.Ballots {
		matter := b.Matter
		if matter == "" {
			matter = fmt.Sprintf("%s %d", t(texts.VoteUnnamed), i+1)
		}
		outcome := t(texts.VoteNotPassed)
		if b.Passed() {
			outcome = t(texts.VotePassed)
		}
		w.bullet(t(texts.DocBallot, matter, b.For, b.Against, b.Abstain, b.Voters, b.Base, b.Threshold, outcome))
	}

	w.p(para{})
	if end := d.Ended.In(d.Loc); !d.Ended.IsZero() && sameDay(end, start) && end.After(start) {
		w.text(t(texts.DocEnd, end.Hour(), end.Minute()))
	} else {
		w.text(t(texts.DocEndUnknown, Dots))
	}
	w.p(para{})

	// Signatures: the chair left, the minute-taker right.
	sign := func(role, name string) []para {
		if name == "" {
			name = Dots
		}
		return []para{
			{align: "center", runs: []run{{text: role, bold: true}}},
			{align: "center", runs: []run{{text: t(texts.DocSignHint), italic: true}}},
			{}, {}, {},
			{align: "center", runs: []run{{text: name, bold: true}}},
		}
	}
	w.table2(sign(t(texts.DocTakerSign), d.MinuteTaker), sign(t(texts.DocChairSign), d.Chair), false)
	return w.document()
}

// Rate is the attendance rate as the summary writes it: "84,3%" in Vietnamese.
func Rate(lang string, s cell.Summary) string {
	out := fmt.Sprintf("%.1f%%", 100*s.Rate())
	if lang != texts.EN {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func orDots(s string) string {
	if s == "" {
		return Dots
	}
	return s
}

func comrade(d Draft, name string) string {
	if name == "" {
		return Dots
	}
	return texts.T(d.Lang, texts.DocComrade, name)
}

func list(ms []cell.Member) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return strings.Join(out, ", ")
}

// names is ": A, B" after a count, or nothing when there is nobody.
func names(ms []cell.Member) string {
	if len(ms) == 0 {
		return ""
	}
	return ": " + list(ms)
}

func colonList(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ": " + strings.Join(items, "; ")
}

func reasonText(lang string, e cell.Excuse) string {
	if e.Unstated {
		return texts.T(lang, texts.DocUnstated)
	}
	key := texts.ReportReasonOther
	switch e.Reason {
	case cell.ReasonWork:
		key = texts.ReportReasonWork
	case cell.ReasonIllness:
		key = texts.ReportReasonIllness
	case cell.ReasonFamily:
		key = texts.ReportReasonFamily
	}
	out := texts.T(lang, key)
	if e.Text != "" {
		out += ": " + e.Text
	}
	return out
}
