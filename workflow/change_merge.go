package workflow

import (
	"context"
	"fmt"
	"slices"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/textdiff"
)

// Merge is the three-way merge of a change in conflict onto the article's
// current publication, the common ancestor being the revision the change
// was based on. The conflict editor and the API start from it, never from
// the stale proposal, so that no published edit is silently undone.
type Merge struct {
	// BaseRevision is the current publication: the base_revision that
	// rebases the change.
	BaseRevision int64           `json:"base_revision"`
	Title        string          `json:"title"`
	Body         string          `json:"body"`
	Topics       []string        `json:"topics"`
	Tags         []string        `json:"tags"`
	Visibility   wiki.Visibility `json:"visibility"`
	wiki.Experience
	// Conflicts counts the marker blocks in Body.
	Conflicts int `json:"conflicts"`
	// ConflictingFields lists the other fields both sides changed
	// differently; they hold the proposal's value.
	ConflictingFields []string `json:"conflicting_fields"`
	// The three revisions, for the side-by-side view.
	Base, Published, Proposed *wiki.Revision `json:"-"`
}

// ErrUnresolved answers an update whose body still holds a conflict block
// (422, merge.unresolved): publishing markers would put both versions, or
// the stale one, in front of readers.
var ErrUnresolved = &wiki.InvalidError{Field: "body", Key: "merge.unresolved",
	Message: "the text still holds conflict markers (" + textdiff.MarkerOurs + " … " + textdiff.MarkerTheirs +
		"): decide each marked passage and remove the marker lines"}

// checkResolved is the one check that a proposal holds no conflict block;
// Update (API and HTML form alike) asks it.
func checkResolved(d *wiki.Draft) error {
	if textdiff.Unresolved(d.Body) {
		return ErrUnresolved
	}
	return nil
}

// Merge returns the merge of change c, which must be in conflict, for id.
// It is ErrForbidden when id may no longer read the current publication
// (its visibility was narrowed): the merge would show its text.
func (s *Service) Merge(ctx context.Context, id *auth.Identity, c *Change) (*Merge, error) {
	if c.State != Conflict {
		return nil, fmt.Errorf("change %d is %s, not in conflict: %w", c.ID, c.State, wiki.ErrConflict)
	}
	if !s.Capabilities(id, c).View {
		return nil, fmt.Errorf("change %d: %w", c.ID, wiki.ErrNotFound)
	}
	pubID, err := s.store.PublishedRevisionID(ctx, c.ArticleID)
	if err != nil {
		return nil, err
	}
	if pubID == 0 {
		return nil, fmt.Errorf("article of change %d has no publication: %w", c.ID, wiki.ErrConflict)
	}
	pub, err := s.store.RevisionByID(ctx, c.ArticleID, pubID)
	if err != nil {
		return nil, err
	}
	if !s.Reader(id).CanRead(c.City, pub.Visibility) {
		return nil, fmt.Errorf("the current version of the article of change %d: %w", c.ID, wiki.ErrForbidden)
	}
	proposed, err := s.store.RevisionByID(ctx, c.ArticleID, c.Revision)
	if err != nil {
		return nil, err
	}
	base := &wiki.Revision{} // a new article's proposal has no ancestor
	if c.BaseRevision != nil {
		if base, err = s.store.RevisionByID(ctx, c.ArticleID, *c.BaseRevision); err != nil {
			return nil, err
		}
	}
	m := mergeRevisions(base, proposed, pub)
	m.Base, m.Published, m.Proposed = base, pub, proposed
	return &m, nil
}

// mergeRevisions merges the body line by line and every other field as a
// whole: the side that changed it wins; where both changed it differently
// the proposal's value stays and the field is listed as conflicting.
// The edit summary is not merged: it belongs to one revision.
func mergeRevisions(base, ours, theirs *wiki.Revision) Merge {
	m := Merge{BaseRevision: theirs.ID, ConflictingFields: []string{}}
	m.Body, m.Conflicts = textdiff.Merge3(base.Body, ours.Body, theirs.Body)
	m.Title = field(&m, "title", base.Title, ours.Title, theirs.Title, eq)
	m.Topics = field(&m, "topics", base.Topics, ours.Topics, theirs.Topics, sameSet)
	m.Tags = field(&m, "tags", base.Tags, ours.Tags, theirs.Tags, sameSet)
	m.Visibility = field(&m, "visibility", base.Visibility, ours.Visibility, theirs.Visibility, eq)
	b, o, t := base.Experience, ours.Experience, theirs.Experience
	m.Status = field(&m, "status", b.Status, o.Status, t.Status, eq)
	m.StartYear = field(&m, "start_year", b.StartYear, o.StartYear, t.StartYear, eq)
	m.Cost = field(&m, "cost", b.Cost, o.Cost, t.Cost, eq)
	m.CostBand = field(&m, "cost_band", b.CostBand, o.CostBand, t.CostBand, eq)
	m.Funding = field(&m, "funding", b.Funding, o.Funding, t.Funding, eq)
	m.Partners = field(&m, "partners", b.Partners, o.Partners, t.Partners, eq)
	m.Contact = field(&m, "contact", b.Contact, o.Contact, t.Contact, eq)
	m.AdoptedFrom = field(&m, "adopted_from", b.AdoptedFrom, o.AdoptedFrom, t.AdoptedFrom, eq)
	if m.Topics == nil {
		m.Topics = []string{}
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	return m
}

func field[T any](m *Merge, name string, base, ours, theirs T, same func(a, b T) bool) T {
	switch {
	case same(ours, base):
		return theirs
	case !same(theirs, base) && !same(ours, theirs):
		m.ConflictingFields = append(m.ConflictingFields, name)
	}
	return ours
}

func eq[T comparable](a, b T) bool { return a == b }

// sameSet compares topic and tag lists, whose order means nothing.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
