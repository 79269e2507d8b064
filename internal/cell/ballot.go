package cell

import (
	"errors"
	"time"
)

// Ballot is one vote taken at a meeting (biểu quyết): the figures the committee
// reported, and the members present who could vote, the base and the threshold
// it was held against when it was taken.
type Ballot struct {
	Matter    string    `json:"matter,omitempty"`
	For       int       `json:"for"`
	Against   int       `json:"against"`
	Abstain   int       `json:"abstain,omitempty"`
	Voters    int       `json:"voters"` // present members who may vote, when taken
	Base      int       `json:"base"`
	Threshold int       `json:"threshold"`
	At        time.Time `json:"at"`
}

// Passed reports whether the resolution passed: at least Threshold votes for,
// more than half of the base. Nothing passes with a base of 0.
func (b Ballot) Passed() bool { return b.Base > 0 && b.For >= b.Threshold }

// Errors of NewBallot.
var (
	ErrVoteNegative = errors.New("cell: a vote figure is negative")
	ErrVoteTooMany  = errors.New("cell: more votes than members present who may vote")
)

// Voters counts the members present at a meeting on day who may vote: official
// members of this cell (not attached from another cell) who came.
// Probationary and attached members attend and speak but do not vote.
func Voters(day time.Time, roster []Member, presence map[int64]Presence) int {
	n := 0
	for _, m := range roster {
		if m.Unlisted || m.OffRoster || m.Standing == Probationary || m.ParticipationOn(day) == Attached {
			continue
		}
		if presence[m.ID].Present() {
			n++
		}
	}
	return n
}

// NewBallot checks a vote's figures against the members present who may vote,
// and holds it against the meeting's vote base. ErrVoteNegative when a figure
// is below zero, ErrVoteTooMany when for, against and abstaining together
// exceed voters.
func NewBallot(matter string, votesFor, against, abstain, voters int, v Vote, at time.Time) (Ballot, error) {
	if votesFor < 0 || against < 0 || abstain < 0 {
		return Ballot{}, ErrVoteNegative
	}
	if votesFor+against+abstain > voters {
		return Ballot{}, ErrVoteTooMany
	}
	return Ballot{Matter: matter, For: votesFor, Against: against, Abstain: abstain,
		Voters: voters, Base: v.Base, Threshold: v.Threshold, At: at}, nil
}

// SetBallot records b on the meeting: it replaces the vote on the same matter
// (accents and case ignored), else it is added after the others. It reports
// whether a vote was replaced.
func (m *Meeting) SetBallot(b Ballot) bool {
	key := Fold(b.Matter)
	for i, old := range m.Ballots {
		if Fold(old.Matter) == key {
			m.Ballots[i] = b
			return true
		}
	}
	m.Ballots = append(m.Ballots, b)
	return false
}
