package workflow

import (
	"fmt"
	"time"

	"hansewiki/wiki"
)

// State of a change request.
type State string

const (
	Draft            State = "draft"
	InReview         State = "in_review"
	ChangesRequested State = "changes_requested"
	Conflict         State = "conflict"
	Published        State = "published"
	Rejected         State = "rejected"
	Withdrawn        State = "withdrawn"
)

// States in the order the UI lists them.
var States = []State{Draft, InReview, ChangesRequested, Conflict, Published, Rejected, Withdrawn}

// Final states allow no further transition.
func (s State) Final() bool { return s == Published || s == Rejected || s == Withdrawn }

// Action is a transition a person asks for.
type Action string

const (
	ActSubmit         Action = "submit"
	ActApprove        Action = "approve"
	ActRequestChanges Action = "request-changes"
	ActReject         Action = "reject"
	ActWithdraw       Action = "withdraw"
	ActUpdate         Action = "update"
)

// transitions is the state machine of the specification: which action is
// allowed in which state. Who may act is decided separately.
var transitions = map[Action][]State{
	ActSubmit:         {Draft, ChangesRequested},
	ActApprove:        {InReview},
	ActRequestChanges: {InReview},
	ActReject:         {InReview},
	ActWithdraw:       {Draft, InReview, ChangesRequested, Conflict},
	ActUpdate:         {Draft, ChangesRequested, Conflict},
}

// Allowed reports whether action may happen in state s.
func Allowed(a Action, s State) bool {
	for _, st := range transitions[a] {
		if st == s {
			return true
		}
	}
	return false
}

// StateError answers an action that the change's state does not allow
// (409 with the current state).
type StateError struct {
	Action Action
	State  State
}

func (e *StateError) Error() string {
	return fmt.Sprintf("cannot %s a change that is %s", e.Action, e.State)
}

func (e *StateError) Unwrap() error { return wiki.ErrConflict }

// Decision of a review.
type Decision string

const (
	Approve        Decision = "approve"
	RequestChanges Decision = "request_changes"
	Reject         Decision = "reject"
)

// Review is one reviewer's decision.
type Review struct {
	Reviewer     string    `json:"reviewer"`
	ReviewerName string    `json:"-"`
	Decision     Decision  `json:"decision"`
	Comment      string    `json:"comment"`
	At           time.Time `json:"at"`
	RevisionID   int64     `json:"revision"`
}

// Comment is one message in a change's discussion.
type Comment struct {
	ID         int64     `json:"id"`
	Author     string    `json:"author"`
	AuthorName string    `json:"-"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

// Change is a change request as its participants see it.
type Change struct {
	ID                int64      `json:"id"`
	State             State      `json:"state"`
	City              string     `json:"city"`
	CityName          string     `json:"-"`
	Slug              string     `json:"slug"`
	Title             string     `json:"title"`
	Author            string     `json:"author"`
	AuthorName        string     `json:"-"`
	AuthorID          int64      `json:"-"`
	ArticleID         int64      `json:"-"`
	BaseRevision      *int64     `json:"base_revision"`
	Revision          int64      `json:"revision"`
	RequiredApprovals *int       `json:"required_approvals"`
	Approvals         int        `json:"approvals"`
	NewArticle        bool       `json:"new_article"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	SubmittedAt       *time.Time `json:"submitted_at"`
	Reviews           []Review   `json:"reviews"`
	// Merge is set for a change in conflict when it is asked for (Merge).
	Merge *Merge `json:"merge,omitempty"`
}

// Proposal is what an author submits: a new article (Slug empty) or a
// change to an existing one based on BaseRevision.
type Proposal struct {
	Draft        wiki.Draft
	Slug         string
	BaseRevision int64
	Submit       bool
}

// Quorum is the number of approvals the change needs (0 before submission).
func (c *Change) Quorum() int {
	if c.RequiredApprovals == nil {
		return 0
	}
	return *c.RequiredApprovals
}
