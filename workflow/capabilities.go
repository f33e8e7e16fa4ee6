package workflow

import (
	"fmt"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Capabilities is what one identity may do with one change in its current
// state. It is the one answer everybody asks — the transitions, the HTML
// handlers and templates, the API ("actions" in the change JSON) and the
// review queue — so no caller re-derives roles, authorship or the four-eyes
// rule (like gitea's Permission per user and repository).
type Capabilities struct {
	Author         bool // the identity wrote the change (it waits for others' review)
	View           bool // see the change, its text and its discussion
	Edit           bool // replace the proposed revision (draft, changes requested)
	Rebase         bool // put a conflicting change onto the current publication
	Submit         bool
	Approve        bool
	RequestChanges bool
	Reject         bool
	Withdraw       bool
	Comment        bool
}

// Capabilities answers what id may do with c now. Everyone who may not see
// the change gets the zero value (and ErrNotFound from the service).
func (s *Service) Capabilities(id *auth.Identity, c *Change) Capabilities {
	var k Capabilities
	if id == nil {
		return k
	}
	author := isAuthor(id, c)
	k.Author = author
	reviewer := s.perm.Can(id, auth.ReviewChange, c.City)
	k.View = author || reviewer || s.perm.Can(id, auth.ManageCity, c.City)
	if !k.View {
		return k
	}
	k.Comment = true
	if author {
		// Work goes on only while the author may still propose; taking
		// the role away stops it, but the author may always withdraw.
		proposer := s.mayPropose(id, c)
		k.Edit = proposer && Allowed(ActUpdate, c.State)
		k.Rebase = proposer && Allowed(ActRebase, c.State)
		k.Submit = proposer && Allowed(ActSubmit, c.State)
		k.Withdraw = Allowed(ActWithdraw, c.State)
	}
	if reviewer && fourEyes(id, c) {
		k.Approve = Allowed(ActApprove, c.State)
		k.RequestChanges = Allowed(ActRequestChanges, c.State)
		k.Reject = Allowed(ActReject, c.State)
	}
	return k
}

// May reports whether the capabilities include action a.
func (k Capabilities) May(a Action) bool {
	switch a {
	case ActUpdate:
		return k.Edit
	case ActRebase:
		return k.Rebase
	case ActSubmit:
		return k.Submit
	case ActApprove:
		return k.Approve
	case ActRequestChanges:
		return k.RequestChanges
	case ActReject:
		return k.Reject
	case ActWithdraw:
		return k.Withdraw
	case ActComment:
		return k.Comment
	}
	return false
}

// Review reports whether any review decision is open to the caller.
func (k Capabilities) Review() bool { return k.Approve || k.RequestChanges || k.Reject }

// ActComment is taking part in the change's discussion.
const ActComment Action = "comment"

// Actions lists the capabilities as action names, for the API.
func (k Capabilities) Actions() []Action {
	out := []Action{}
	for _, a := range []Action{ActUpdate, ActRebase, ActSubmit, ActApprove, ActRequestChanges, ActReject, ActWithdraw, ActComment} {
		if k.May(a) {
			out = append(out, a)
		}
	}
	return out
}

func isAuthor(id *auth.Identity, c *Change) bool { return id != nil && id.UserID == c.AuthorID }

// fourEyes is the four-eyes rule, in this one place: nobody decides on
// their own change.
func fourEyes(id *auth.Identity, c *Change) bool { return id != nil && !isAuthor(id, c) }

// mayPropose: a new article needs the right to create articles in the
// city, a change to an existing one the right to propose changes.
func (s *Service) mayPropose(id *auth.Identity, c *Change) bool {
	if c.NewArticle {
		return s.perm.Can(id, auth.CreateArticle, c.City)
	}
	return s.perm.Can(id, auth.ProposeChange, c.City)
}

// quorumMet is the quorum rule, in this one place: a change is published
// once the distinct reviewers other than its author who approved its
// current revision (Change.Approvals, counted by approvalsSQL) reach the
// quorum recorded at its first submission. Without a recorded quorum it
// never is.
func quorumMet(c *Change) bool {
	return c.RequiredApprovals != nil && *c.RequiredApprovals >= 1 && c.Approvals >= *c.RequiredApprovals
}

// approvalsSQL counts what quorumMet weighs: approvals of the change's
// current revision by distinct reviewers other than its author.
const approvalsSQL = `(SELECT count(DISTINCT v.reviewer_id) FROM reviews v WHERE v.change_id = c.id
	AND v.revision_id = c.revision_id AND v.decision = 'approve' AND v.reviewer_id <> c.author_id)`

// MayEdit answers whether id may open c's editor now (edit or rebase), as
// the error a page shows otherwise: a state error for the author, forbidden
// for everyone else.
func (s *Service) MayEdit(id *auth.Identity, c *Change) error {
	k := s.Capabilities(id, c)
	switch {
	case k.Edit || k.Rebase:
		return nil
	case k.Author:
		return &StateError{Action: ActUpdate, State: c.State}
	}
	return fmt.Errorf("only the author can edit this proposal: %w", wiki.ErrForbidden)
}
