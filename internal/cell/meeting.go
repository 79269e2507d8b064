package cell

import "time"

// MeetingKind is regular (sinh hoạt định kỳ, monthly) or topical (sinh hoạt
// chuyên đề, at least once a quarter).
type MeetingKind string

// Meeting kinds.
const (
	KindRegular MeetingKind = "regular"
	KindTopical MeetingKind = "topical"
)

// MeetingState is where a meeting is in its life.
type MeetingState string

// Meeting states, in the order a meeting goes through them; cancelled may come
// instead of checkin or closed.
const (
	StateScheduled MeetingState = "scheduled"
	StateCheckin   MeetingState = "checkin" // check-in open; answers close at the start
	StateClosed    MeetingState = "closed"  // /close: check-in and answers ended, summary posted
	StateCancelled MeetingState = "cancelled"
)

// Guest is someone recorded on a meeting by name and title (khách mời, đại biểu
// cấp trên). A guest needs no Telegram account and is never counted as a member.
type Guest struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
}

// Meeting is one meeting of a cell.
type Meeting struct {
	ID     int64        `json:"id"`
	CellID int64        `json:"cell_id"`
	Kind   MeetingKind  `json:"kind"`
	Title  string       `json:"title,omitempty"`
	Start  time.Time    `json:"start"` // shown and reasoned about in the cell's time zone
	Place  string       `json:"place,omitempty"`
	Agenda []string     `json:"agenda,omitempty"` // one item a line
	Guests []Guest      `json:"guests,omitempty"`
	State  MeetingState `json:"state"`
	// Nominal is the cron time of a recurring meeting's occurrence (its name,
	// whatever workday or /move did); zero for a one-off meeting.
	Nominal time.Time `json:"nominal,omitzero"`
	// Version grows with each /move, so that reminders planned for an earlier
	// time are known to be stale.
	Version int `json:"ver"`
	// Moved is set by /move, and on a meeting set by hand that the schedule
	// adopted as its occurrence: the committee chose the time (and place), and
	// a later holiday or schedule change leaves them alone.
	Moved bool `json:"moved,omitempty"`
	// Adopted marks a meeting set by hand (/meeting) that the schedule took as
	// its occurrence at that time: a later schedule without that occurrence
	// makes it a one-off again instead of cancelling it.
	Adopted bool `json:"adopted,omitempty"`
	// Chair and MinuteTaker are the members (ids) who chair the meeting and
	// take its minutes; 0 when not set (the secretary chairs by default).
	Chair       int64 `json:"chair,omitempty"`
	MinuteTaker int64 `json:"minute_taker,omitempty"`
	// Documents are the files the committee attached with /agenda.
	Documents []Document `json:"documents,omitempty"`
	// Ballots are the votes taken at the meeting, in the order first taken.
	Ballots []Ballot `json:"ballots,omitempty"`
	// Closed is when /close ended the meeting: the minutes' time ended.
	Closed time.Time `json:"closed,omitzero"`
}

// Document is a file attached to a meeting, kept as Telegram's file id so that
// it is sent again without being uploaded.
type Document struct {
	FileID   string    `json:"file_id"`
	FileName string    `json:"file_name,omitempty"`
	At       time.Time `json:"at"`
}

// Open reports whether the meeting is still to happen (scheduled, or checking in).
func (m Meeting) Open() bool { return m.State == StateScheduled || m.State == StateCheckin }

// Schedule is a cell's meeting settings: the recurring regular meeting (a cron
// line in the cell's time zone; empty when none), whether it moves off weekends
// and holidays, its usual place, the reminder lead times (nil: the defaults) and
// the attendance target.
type Schedule struct {
	Cron    string
	Workday bool
	Place   string
	Leads   []time.Duration
	Target  int // percent; 0 means DefaultTargetPercent
	// Version grows with each change of the cron line or holidays, so that the
	// planning under an earlier one is known to be stale.
	Version int
}

// AnswerKind is what a member answered to a meeting notice.
type AnswerKind string

// Answer kinds, as the RSVP buttons give them.
const (
	Coming  AnswerKind = "coming"  // ✅ Tham dự
	Excused AnswerKind = "excused" // ❌ Xin vắng, with a reason
	Unsure  AnswerKind = "unsure"  // ❔ Chưa chắc
)

// Valid reports whether k is one of the answer kinds.
func (k AnswerKind) Valid() bool { return k == Coming || k == Excused || k == Unsure }

// ReasonCategory is the quick category of an excused absence, so that reasons
// can be totalled.
type ReasonCategory string

// Reason categories, as the reason buttons give them.
const (
	ReasonWork    ReasonCategory = "work"    // 🧳 Công tác, đi xa (work or travel)
	ReasonIllness ReasonCategory = "illness" // 🤒 Ốm đau
	ReasonFamily  ReasonCategory = "family"  // 🏠 Việc gia đình
	ReasonOther   ReasonCategory = "other"   // ✏️ Lý do khác, with a text
)

// ReasonCategories lists the categories in the order they are shown.
var ReasonCategories = []ReasonCategory{ReasonWork, ReasonIllness, ReasonFamily, ReasonOther}

// Valid reports whether r is one of the reason categories.
func (r ReasonCategory) Valid() bool {
	return r == ReasonWork || r == ReasonIllness || r == ReasonFamily || r == ReasonOther
}

// Answer is a member's answer to one meeting. A member has at most one; a new
// answer replaces the previous one until the meeting starts.
type Answer struct {
	MemberID   int64          `json:"member_id"`
	Kind       AnswerKind     `json:"kind"`
	Reason     ReasonCategory `json:"reason,omitempty"`      // for Excused
	ReasonText string         `json:"reason_text,omitempty"` // for ReasonOther, at most MaxReasonLen
	At         time.Time      `json:"at"`
}

// PresenceMark is how a member's presence at a meeting was recorded.
type PresenceMark string

// Presence marks. Present by code or by roll call count the same; the mark only
// says who recorded it. A later mark replaces an earlier one (a roll call may
// correct a code, and the reverse).
const (
	PresentByCode     PresenceMark = "code"     // the member sent the check-in code
	PresentByQR       PresenceMark = "qr"       // the member scanned the check-in QR code
	PresentByCard     PresenceMark = "card"     // a committee member marked them present from their card
	PresentByRollCall PresenceMark = "rollcall" // a committee member marked them present in /attendance
	MarkedAbsent      PresenceMark = "absent"   // a committee member marked them absent in /attendance
)

// Presence is what was recorded about one member at one meeting. A member with
// no Presence was not present.
type Presence struct {
	MemberID int64        `json:"member_id"`
	Mark     PresenceMark `json:"mark"`
	At       time.Time    `json:"at"`
}

// Present reports whether the mark says the member came.
func (p Presence) Present() bool {
	switch p.Mark {
	case PresentByCode, PresentByQR, PresentByRollCall, PresentByCard:
		return true
	}
	return false
}
