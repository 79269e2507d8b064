// Package cell holds the domain of a party cell: cells, members, their standing,
// participation and committee roles, meetings, answers and presence, and the
// pure rules on them: who is expected, a meeting's summary (attendance rate,
// vote base and threshold), absence alerts, quarters and the topical-meeting
// warning, quiet hours, name matching. It does no I/O.
package cell

import (
	"fmt"
	"strings"
	"time"
)

// Cell is one organisation bound to one Telegram group.
type Cell struct {
	ID        int64
	Name      string
	ChatID    int64  // the group
	TimeZone  string // IANA name
	Lang      string // default language of the group's messages
	Quiet     QuietHours
	Created   time.Time
	JoinToken string // the payload of the join link
	// Parent is the parent organisation (Đảng bộ …) for the minutes' header;
	// empty when not set.
	Parent string
}

// Location is the cell's time zone, UTC when the name is unknown. Code that can
// report the failure uses LoadLocation.
func (c Cell) Location() *time.Location {
	loc, err := c.LoadLocation()
	if err != nil {
		return time.UTC
	}
	return loc
}

// LoadLocation loads the cell's time zone. An empty name is an error too: it
// would load as UTC, which is never what a cell meant.
func (c Cell) LoadLocation() (*time.Location, error) {
	if c.TimeZone == "" {
		return nil, fmt.Errorf("cell %d has no time zone", c.ID)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone of cell %d: %w", c.ID, err)
	}
	return loc, nil
}

// Standing is official (chính thức) or probationary (dự bị).
type Standing string

// Standings.
const (
	Official     Standing = "official"
	Probationary Standing = "probationary"
)

// Participation says whether a member is expected at meetings.
type Participation string

// Participations, as /import and the secretary's guide (docs/) name them.
const (
	Regular  Participation = "regular"
	Exempt   Participation = "exempt"
	Away     Participation = "away"
	Attached Participation = "attached"
)

// Role is a member's place in the committee.
type Role string

// Roles, from the least to the most rights.
const (
	RoleMember    Role = ""
	RoleCommittee Role = "committee"
	RoleDeputy    Role = "deputy"
	RoleSecretary Role = "secretary"
)

// IsCommittee reports whether the role may manage the cell.
func (r Role) IsCommittee() bool { return r != RoleMember }

// Member is one person on the roster.
type Member struct {
	ID            int64         `json:"id"`
	Name          string        `json:"name"`
	UserID        int64         `json:"user_id,omitempty"` // 0: no Telegram account linked
	Standing      Standing      `json:"standing"`
	Participation Participation `json:"participation"`
	Until         string        `json:"until,omitempty"` // yyyy-mm-dd, for away and attached
	Reason        string        `json:"reason,omitempty"`
	Role          Role          `json:"role,omitempty"`
	// Unlisted marks a record that is not a roster entry: the one /setup makes
	// from the secretary's Telegram name until /import links it to their entry,
	// or an operator who serves the cell without belonging to it. An unlisted
	// record is never counted among the members.
	Unlisted bool `json:"unlisted,omitempty"`
	// Alias is the Telegram name in the other order ("Nguyễn Thị Lan" for the
	// first name "Lan" and last name "Nguyễn Thị"), by which /import also
	// recognises an unlisted record's entry.
	Alias string `json:"alias,omitempty"`
	// OffRoster: the unlisted user said they are not on this roster (an operator
	// who serves the cell from the committee), so /import stops asking; such a
	// record is never expected, never counted in summaries, rates, vote bases or
	// reports.
	OffRoster bool `json:"off_roster,omitempty"`
	// Left is the day (yyyy-mm-dd) from which the member is off the roster,
	// for LeftCause; the record stays, so that earlier meetings keep it.
	Left      string     `json:"left,omitempty"`
	LeftCause LeaveCause `json:"left_cause,omitempty"`
	// NoNotices: an exempt or away member asked for no notices and agendas
	// (the opt-out their participation allows).
	NoNotices bool `json:"no_notices,omitempty"`
}

// ParticipationOn is the member's participation on a day: an away member whose
// date has passed is regular again.
func (m Member) ParticipationOn(day time.Time) Participation {
	if m.Participation == Away && m.Until != "" {
		until, err := time.Parse(time.DateOnly, m.Until)
		if err == nil && day.Format(time.DateOnly) > until.Format(time.DateOnly) {
			return Regular
		}
	}
	return m.Participation
}

// Expected reports whether the member is expected at a meeting on that day:
// on the roster that day, and regular or attached.
func (m Member) Expected(day time.Time) bool {
	if !m.OnRoster(day) {
		return false
	}
	p := m.ParticipationOn(day)
	return p == Regular || p == Attached
}

// Listed returns the roster entries, without the unlisted records.
func Listed(ms []Member) []Member {
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		if !m.Unlisted {
			out = append(out, m)
		}
	}
	return out
}

// CountExpected counts the members expected at meetings on that day.
func CountExpected(ms []Member, day time.Time) int {
	n := 0
	for _, m := range ms {
		if m.Expected(day) {
			n++
		}
	}
	return n
}

// ParseStanding reads a standing in English or Vietnamese.
func ParseStanding(s string) (Standing, error) {
	switch Fold(s) {
	case "official", "chinh thuc", "":
		return Official, nil
	case "probationary", "du bi":
		return Probationary, nil
	}
	return "", fmt.Errorf("unknown standing %q", s)
}

// ParseParticipation reads a participation in English or Vietnamese.
func ParseParticipation(s string) (Participation, error) {
	switch Fold(s) {
	case "regular", "sinh hoat thuong xuyen", "thuong xuyen", "":
		return Regular, nil
	case "exempt", "mien sinh hoat", "mien":
		return Exempt, nil
	case "away", "tam mien sinh hoat", "tam mien":
		return Away, nil
	case "attached", "sinh hoat tam thoi", "tam thoi":
		return Attached, nil
	}
	return "", fmt.Errorf("unknown participation %q", s)
}

// ParseDate reads dd/mm/yyyy (d/m/yyyy too) and returns it as yyyy-mm-dd.
func ParseDate(s string) (string, error) {
	t, err := time.Parse("2/1/2006", strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("not a date dd/mm/yyyy: %q", s)
	}
	return t.Format(time.DateOnly), nil
}

// FormatDate shows a yyyy-mm-dd date as dd/mm/yyyy.
func FormatDate(iso string) string {
	t, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	return t.Format("02/01/2006")
}
