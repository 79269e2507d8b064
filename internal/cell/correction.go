package cell

import "time"

// Correction is the committee's change of one member's outcome at a closed
// meeting, made after /close (a roll-call mistake found later). The latest
// correction of a member stands; every one is kept with who made it, when, and
// the outcome it replaced.
type Correction struct {
	MemberID int64          `json:"member"`
	To       Outcome        `json:"to"`               // OutcomePresent, OutcomeExcused, OutcomeAbsent (OutcomeNotExpected for a member not expected who did not come)
	Reason   ReasonCategory `json:"reason,omitempty"` // for OutcomeExcused
	Text     string         `json:"text,omitempty"`   // for ReasonOther, when given
	From     Outcome        `json:"from"`             // the outcome it replaced
	By       int64          `json:"by"`               // the committee member who made it (member id)
	ByName   string         `json:"by_name,omitempty"`
	At       time.Time      `json:"at"`
}

// Valid reports whether c asks for an outcome a correction may give: present,
// excused with a reason, or absent without reason (or, for a member who was
// not expected, not present).
func (c Correction) Valid() bool {
	switch c.To {
	case OutcomePresent, OutcomeAbsent, OutcomeNotExpected:
		return c.Reason == "" && c.Text == ""
	case OutcomeExcused:
		return c.Reason.Valid() && len([]rune(c.Text)) <= MaxReasonLen
	}
	return false
}

// Correct returns the answers and presence of a meeting with the corrections
// applied, for Summarize to give the corrected summary: a correction to present
// marks the member present; to excused, not present with an excused answer of
// the correction's reason; to absent, not present and not excused (an answer
// "coming" stays, so that the summary still lists them as having said so). The
// inputs are not changed.
func Correct(answers []Answer, presence []Presence, corrections map[int64]Correction) ([]Answer, []Presence) {
	if len(corrections) == 0 {
		return answers, presence
	}
	as := make([]Answer, 0, len(answers)+len(corrections))
	kept := map[int64]Answer{}
	for _, a := range answers {
		c, ok := corrections[a.MemberID]
		if !ok {
			as = append(as, a)
			continue
		}
		if prev, seen := kept[a.MemberID]; (!seen || !a.At.Before(prev.At)) && c.To != OutcomeExcused {
			kept[a.MemberID] = a
		}
	}
	ps := make([]Presence, 0, len(presence)+len(corrections))
	for _, p := range presence {
		if _, ok := corrections[p.MemberID]; !ok {
			ps = append(ps, p)
		}
	}
	for id, c := range corrections {
		switch c.To {
		case OutcomePresent:
			ps = append(ps, Presence{MemberID: id, Mark: PresentByRollCall, At: c.At})
			if a, ok := kept[id]; ok {
				as = append(as, a)
			}
		case OutcomeExcused:
			ps = append(ps, Presence{MemberID: id, Mark: MarkedAbsent, At: c.At})
			as = append(as, Answer{MemberID: id, Kind: Excused, Reason: c.Reason, ReasonText: c.Text, At: c.At})
		case OutcomeAbsent, OutcomeNotExpected:
			ps = append(ps, Presence{MemberID: id, Mark: MarkedAbsent, At: c.At})
			if a, ok := kept[id]; ok && a.Kind != Excused {
				as = append(as, a)
			}
		}
	}
	return as, ps
}
