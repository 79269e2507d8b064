package cell

import (
	"strings"
	"time"
)

// LeaveCause is why a member left the roster.
type LeaveCause string

// Causes of leaving the roster. A member who leaves keeps their record: the
// meetings before the date, and any meeting already closed, still name them.
const (
	LeftTransfer        LeaveCause = "transfer"         // chuyển sinh hoạt đi
	LeftDied            LeaveCause = "died"             // từ trần
	LeftRemoved         LeaveCause = "removed"          // xóa tên, khai trừ
	LeftMistake         LeaveCause = "mistake"          // nhập nhầm
	LeftAttachmentEnded LeaveCause = "attachment_ended" // sinh hoạt tạm thời đã hết hạn
)

// LeaveCauses are the causes a committee member may type, in the order the
// bot lists them.
var LeaveCauses = []LeaveCause{LeftTransfer, LeftDied, LeftRemoved, LeftMistake}

// leaveWords maps a cause's words, folded (accents and case ignored), to the
// cause.
var leaveWords = map[string]LeaveCause{
	"transfer": LeftTransfer, "transferred": LeftTransfer, "chuyen": LeftTransfer,
	"chuyen di": LeftTransfer, "chuyen sinh hoat": LeftTransfer, "chuyen sinh hoat di": LeftTransfer,
	"died": LeftDied, "death": LeftDied, "tu tran": LeftDied,
	"removed": LeftRemoved, "xoa ten": LeftRemoved, "khai tru": LeftRemoved,
	"mistake": LeftMistake, "nham": LeftMistake, "nhap nham": LeftMistake,
}

// ParseLeaveCause reads a cause in English or Vietnamese, accents and case
// ignored.
func ParseLeaveCause(s string) (LeaveCause, bool) {
	c, ok := leaveWords[Fold(s)]
	return c, ok
}

// SplitLeaveCause splits "/leave" words into the member's name and the cause
// at their end (one to four words); ok is false when the words end in no
// cause.
func SplitLeaveCause(words []string) (name []string, cause LeaveCause, ok bool) {
	for n := min(4, len(words)-1); n >= 1; n-- {
		if c, found := ParseLeaveCause(strings.Join(words[len(words)-n:], " ")); found {
			return words[:len(words)-n], c, true
		}
	}
	return words, "", false
}

// HasLeft reports whether the member is off the roster on that day: they left
// on it or before.
func (m Member) HasLeft(day time.Time) bool {
	return m.Left != "" && day.Format(time.DateOnly) >= m.Left
}

// OnRoster reports whether the member is a roster entry on that day: listed,
// counted, and not left by then.
func (m Member) OnRoster(day time.Time) bool {
	return !m.Unlisted && !m.OffRoster && !m.HasLeft(day)
}

// GetsNotices reports whether the member is sent notices and agendas of a
// meeting on that day: not left by then, and not an exempt or away member
// who asked for none (a member expected that day always gets them).
func (m Member) GetsNotices(day time.Time) bool {
	if m.HasLeft(day) {
		return false
	}
	p := m.ParticipationOn(day)
	return !m.NoNotices || (p != Exempt && p != Away)
}

// Current returns the roster entries on that day: without the unlisted
// records and the members who have left.
func Current(ms []Member, day time.Time) []Member {
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		if !m.Unlisted && !m.HasLeft(day) {
			out = append(out, m)
		}
	}
	return out
}

// Staying returns the records of members who have not left by that day,
// unlisted ones included (an operator on the committee still hears what the
// committee hears).
func Staying(ms []Member, day time.Time) []Member {
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		if !m.HasLeft(day) {
			out = append(out, m)
		}
	}
	return out
}

// Departed returns the roster entries who have left by that day.
func Departed(ms []Member, day time.Time) []Member {
	var out []Member
	for _, m := range ms {
		if !m.Unlisted && m.HasLeft(day) {
			out = append(out, m)
		}
	}
	return out
}

// WithRecord returns the roster a closed meeting's summary is worked out
// from: a member who left since, even from a date before the meeting, is
// kept when the meeting recorded an outcome for them, since leaving never
// rewrites the past.
func WithRecord(ms []Member, recorded map[int64]Outcome) []Member {
	out := make([]Member, len(ms))
	for i, m := range ms {
		if _, ok := recorded[m.ID]; ok {
			m.Left = ""
		}
		out[i] = m
	}
	return out
}

// AttachmentEnd returns the day an attached member leaves the roster because
// their attachment ended: the day after their until-date (yyyy-mm-dd); ok is
// false for anyone else, or a member who has left already.
func (m Member) AttachmentEnd() (string, bool) {
	if m.Participation != Attached || m.Until == "" || m.Left != "" || m.Unlisted {
		return "", false
	}
	until, err := time.Parse(time.DateOnly, m.Until)
	if err != nil {
		return "", false
	}
	return until.AddDate(0, 0, 1).Format(time.DateOnly), true
}
