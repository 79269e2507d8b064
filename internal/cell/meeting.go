package cell

import "time"

// MeetingKind is a regular (sinh hoạt định kỳ) or topical (chuyên đề) meeting.
type MeetingKind string

// Meeting kinds.
const (
	KindRegular MeetingKind = "regular"
	KindTopical MeetingKind = "topical"
)

// MeetingState is where a meeting is in its life.
type MeetingState string

// Meeting states.
const (
	StateScheduled MeetingState = "scheduled"
	StateCheckin   MeetingState = "checkin"
	StateClosed    MeetingState = "closed"
	StateCancelled MeetingState = "cancelled"
)

// Guest is someone recorded on a meeting by name and title; no Telegram needed.
type Guest struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
}

// Meeting is one meeting of a cell.
type Meeting struct {
	ID     int64        `json:"id"`
	CellID int64        `json:"cell"`
	Kind   MeetingKind  `json:"kind"`
	Title  string       `json:"title,omitempty"`
	Start  time.Time    `json:"start"`
	Place  string       `json:"place,omitempty"`
	Agenda []string     `json:"agenda,omitempty"`
	Guests []Guest      `json:"guests,omitempty"`
	State  MeetingState `json:"state"`
	// Nominal is the cron time of a recurring meeting's occurrence (its name,
	// whatever workday or /move did); zero for a one-off meeting.
	Nominal time.Time `json:"nominal,omitzero"`
	// Version grows with each /move, so that reminders planned for an earlier
	// time are known to be stale.
	Version int `json:"ver"`
}

// Open reports whether the meeting is still to happen (scheduled, or checking in).
func (m Meeting) Open() bool { return m.State == StateScheduled || m.State == StateCheckin }

// DefaultTarget is the quality target of the attendance rate, in percent.
const DefaultTarget = 85

// Schedule is a cell's meeting settings: the recurring regular meeting (a cron
// line in the cell's time zone; empty when none), whether it moves off weekends
// and holidays, its usual place, the reminder lead times (nil: the defaults) and
// the attendance target.
type Schedule struct {
	Cron    string
	Workday bool
	Place   string
	Leads   []time.Duration
	Target  int // percent; 0 means DefaultTarget
	// Version grows with each change of the cron line, so that the planning of
	// an earlier line is known to be stale.
	Version int
}
