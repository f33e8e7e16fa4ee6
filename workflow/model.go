package workflow

import (
	"fmt"
	"time"

	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
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
	ActRebase         Action = "rebase"
)

// transitions is the state machine of the specification: which action is
// allowed in which state. Who may act is decided separately.
var transitions = map[Action][]State{
	ActSubmit:         {Draft, ChangesRequested},
	ActApprove:        {InReview},
	ActRequestChanges: {InReview},
	ActReject:         {InReview},
	ActWithdraw:       {Draft, InReview, ChangesRequested, Conflict},
	// A PUT keeps the state; only the rebase of a conflict (a PUT onto the
	// current publication) returns the change to review.
	ActUpdate: {Draft, ChangesRequested},
	ActRebase: {Conflict},
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
	// Outdated: given for an earlier revision of the change; it no longer
	// counts, and the page says so.
	Outdated bool `json:"outdated"`
}

// Comment is one message in a change's discussion.
type Comment struct {
	ID         int64     `json:"id"`
	Author     string    `json:"author"`
	AuthorName string    `json:"-"`
	Body       string    `json:"body"`
	At         time.Time `json:"at"`
}

// TakenError refuses a new article whose address (made from its title) is
// taken: by a published article, or by another new-article proposal still
// under way (Change). It is a conflict (409).
type TakenError struct {
	City, Slug string
	Published  bool
	Change     int64
}

func (e *TakenError) Error() string {
	if e.Published {
		return fmt.Sprintf("an article %s/%s already exists; propose a change to it instead", e.City, e.Slug)
	}
	return fmt.Sprintf("a proposal for a new article %s/%s is already under way (change %d)", e.City, e.Slug, e.Change)
}

func (e *TakenError) Unwrap() error { return wiki.ErrConflict }

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
	// DueAt is when a change in review is due (null in other states): the
	// city's review_days after it last entered review. Overdue says it has
	// passed, as of reading.
	DueAt   *time.Time `json:"due_at"`
	Overdue bool       `json:"overdue"`
	// Notified is whom the last submission told: "reviewers" of the city,
	// "network_admins" as reviewers of last resort when nobody but the
	// author could approve it, or "nobody" (null before submission).
	Notified *string  `json:"notified"`
	Reviews  []Review `json:"reviews"`
	// Actions is what the caller may do with the change now (see
	// Capabilities), filled for the identity that asked.
	Actions []Action `json:"actions"`
	// Merge is set for a change in conflict when it is asked for (Merge).
	Merge *Merge `json:"merge,omitempty"`
	// Warnings are the accessibility problems of the proposed text
	// (markdown.Check): filled where one change is asked for, not in lists.
	Warnings []markdown.Warning `json:"warnings,omitzero"`
	// Files the proposal adds to or removes from the article (compared
	// with its base revision); filled with Warnings.
	Files *FileChanges `json:"files,omitempty"`
}

// FileChanges are the attachments a proposal adds and removes.
type FileChanges struct {
	Added   []*wiki.Attachment `json:"added"`
	Removed []*wiki.Attachment `json:"removed"`
}

// NotifiedWhom is Notified, "" before the first submission.
func (c *Change) NotifiedWhom() string {
	if c.Notified == nil {
		return ""
	}
	return *c.Notified
}

// Whom a submission notified (Change.Notified).
const (
	NotifiedReviewers     = "reviewers"
	NotifiedNetworkAdmins = "network_admins"
	NotifiedNobody        = "nobody"
)

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

// Reason is the review that sent the change back or ended it, shown at the
// top of the change page: the reviewer's why. Nil in other states.
func (c *Change) Reason() *Review {
	var want Decision
	switch c.State {
	case ChangesRequested:
		want = RequestChanges
	case Rejected:
		want = Reject
	default:
		return nil
	}
	for i := len(c.Reviews) - 1; i >= 0; i-- {
		if c.Reviews[i].Decision == want {
			return &c.Reviews[i]
		}
	}
	return nil
}
