package workflow

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// querier is a pool or a transaction (the store's one querier type).
type querier = wiki.Querier

const changeColumns = `c.id, c.state, a.city, (SELECT name FROM cities WHERE slug = a.city), a.slug, r.title, u.username, u.display_name, c.author_id,
	c.article_id, c.base_revision_id, c.revision_id, c.required_approvals, ` + approvalsSQL + `,
	c.base_revision_id IS NULL,
	c.created_at, c.updated_at, c.submitted_at, c.notified, c.due_at`

const changeFrom = ` FROM change_requests c
	JOIN articles a ON a.id = c.article_id
	JOIN revisions r ON r.id = c.revision_id
	JOIN users u ON u.id = c.author_id`

type changeRow struct {
	ID                int64
	State             string
	City, CityName    string
	Slug, Title       string
	Author            string
	AuthorName        string
	AuthorID          int64
	ArticleID         int64
	BaseRevision      *int64
	Revision          int64
	RequiredApprovals *int32
	Approvals         int64
	NewArticle        bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
	SubmittedAt       *time.Time
	Notified          *string
	DueAt             *time.Time
}

func (r changeRow) change() *Change {
	c := &Change{ID: r.ID, State: State(r.State), City: r.City, CityName: r.CityName, Slug: r.Slug, Title: r.Title, Author: r.Author,
		AuthorName: r.AuthorName, AuthorID: r.AuthorID, ArticleID: r.ArticleID, BaseRevision: r.BaseRevision,
		Revision: r.Revision, Approvals: int(r.Approvals), NewArticle: r.NewArticle, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, SubmittedAt: r.SubmittedAt, Notified: r.Notified, Reviews: []Review{}, Actions: []Action{}}
	if r.RequiredApprovals != nil {
		n := int(*r.RequiredApprovals)
		c.RequiredApprovals = &n
	}
	if c.State == InReview && r.DueAt != nil {
		c.DueAt, c.Overdue = r.DueAt, time.Now().After(*r.DueAt)
	}
	return c
}

// load reads one change with its reviews, without permission checks.
func (s *Service) load(ctx context.Context, q querier, changeID int64) (*Change, error) {
	rows, _ := q.Query(ctx, `SELECT `+changeColumns+changeFrom+` WHERE c.id = $1`, changeID)
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[changeRow])
	if err != nil {
		if err == pgx.ErrNoRows {
			return nil, fmt.Errorf("change %d: %w", changeID, wiki.ErrNotFound)
		}
		return nil, err
	}
	c := row.change()
	rows, _ = q.Query(ctx, `SELECT u.username, u.display_name, v.decision, v.comment, v.created_at, v.revision_id, v.revision_id <> $2
		FROM reviews v JOIN users u ON u.id = v.reviewer_id WHERE v.change_id = $1 ORDER BY v.id`, changeID, c.Revision)
	if c.Reviews, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Review]); err != nil {
		return nil, err
	}
	return c, nil
}

// Get returns a change the identity may see, with the actions open to it.
// Everyone else gets ErrNotFound: a change's existence does not leak.
func (s *Service) Get(ctx context.Context, id *auth.Identity, changeID int64) (*Change, error) {
	c, err := s.load(ctx, s.pool, changeID)
	if err != nil {
		return nil, err
	}
	if !s.Capabilities(id, c).View {
		return nil, fmt.Errorf("change %d: %w", changeID, wiki.ErrNotFound)
	}
	c.Actions = s.Capabilities(id, c).Actions()
	return c, s.fillWarnings(ctx, c)
}

// fillWarnings fills the accessibility warnings of the change's proposed text.
func (s *Service) fillWarnings(ctx context.Context, c *Change) error {
	var body string
	if err := s.pool.QueryRow(ctx, `SELECT body FROM revisions WHERE id = $1`, c.Revision).Scan(&body); err != nil {
		return err
	}
	c.Warnings = s.store.Renderer().Check([]byte(body))
	var base int64
	if c.BaseRevision != nil {
		base = *c.BaseRevision
	}
	var err error
	c.Files, err = s.FileChanges(ctx, base, c.Revision)
	return err
}

// FileChanges compares the attachments of a proposal with its base
// revision's (base 0: a new article).
func (s *Service) FileChanges(ctx context.Context, base, rev int64) (*FileChanges, error) {
	var before []*wiki.Attachment
	var err error
	if base != 0 {
		if before, err = s.store.RevisionAttachments(ctx, base); err != nil {
			return nil, err
		}
	}
	after, err := s.store.RevisionAttachments(ctx, rev)
	if err != nil {
		return nil, err
	}
	in := func(list []*wiki.Attachment, a *wiki.Attachment) bool {
		return slices.ContainsFunc(list, func(b *wiki.Attachment) bool { return b.ID == a.ID })
	}
	fc := &FileChanges{Added: []*wiki.Attachment{}, Removed: []*wiki.Attachment{}}
	for _, a := range after {
		if !in(before, a) {
			fc.Added = append(fc.Added, a)
		}
	}
	for _, a := range before {
		if !in(after, a) {
			fc.Removed = append(fc.Removed, a)
		}
	}
	return fc, nil
}

// PublishedBy maps each revision of an article that a change published to
// that change, for the changes id's roles let it open (none for visitors):
// the history links a version to its approvals and discussion. Roles
// alone, not authorship, because the history is one page for everyone
// with the same roles (the page cache); authors find their own changes
// under "Meine Änderungen".
func (s *Service) PublishedBy(ctx context.Context, id *auth.Identity, articleID int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if id == nil {
		return out, nil
	}
	id = &auth.Identity{Username: id.Username, Grants: id.Grants} // no UserID: nobody's author
	rows, _ := s.pool.Query(ctx, `SELECT `+changeColumns+changeFrom+` WHERE c.article_id = $1 AND c.state = 'published'`, articleID)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[changeRow])
	if err != nil {
		return nil, err
	}
	for _, row := range list {
		if c := row.change(); s.Capabilities(id, c).View {
			out[c.Revision] = c.ID
		}
	}
	return out, nil
}

// Filter narrows change listings.
type Filter struct {
	State State
	City  string
	Mine  bool
	// Review keeps only changes the caller may decide on now.
	Review bool
	Limit  int
}

// reviewCities lists the cities whose changes id reviews or administers
// ("*": all).
func (s *Service) reviewCities(id *auth.Identity) []string {
	out := s.perm.CitiesWhere(id, auth.ReviewChange)
	for _, c := range s.perm.CitiesWhere(id, auth.ManageCity) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// List returns the changes id may see, newest activity first, each with
// the actions open to id. The SQL narrows to the candidates; Capabilities
// decides.
func (s *Service) List(ctx context.Context, id *auth.Identity, f Filter) ([]*Change, error) {
	if id == nil {
		return nil, fmt.Errorf("listing changes: %w", wiki.ErrForbidden)
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	// Every placeholder handed out must be used: an argument added for a
	// condition that is then dropped makes PostgreSQL refuse the query
	// (the 500 that network admins and "*" reviewers met).
	var visible string
	switch cities := s.reviewCities(id); {
	case slices.Contains(cities, auth.AllCities):
		visible = "true"
	case len(cities) > 0:
		visible = "(c.author_id = " + arg(id.UserID) + " OR a.city = ANY(" + arg(cities) + "))"
	default:
		visible = "c.author_id = " + arg(id.UserID)
	}
	where := []string{visible}
	if f.Mine {
		where = append(where, "c.author_id = "+arg(id.UserID))
	}
	if f.Review {
		where = append(where, "c.author_id <> "+arg(id.UserID))
	}
	if f.State != "" {
		where = append(where, "c.state = "+arg(string(f.State)))
	}
	if f.City != "" {
		where = append(where, "a.city = "+arg(f.City))
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+changeColumns+changeFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY c.updated_at DESC, c.id DESC LIMIT `+arg(f.Limit), args...)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[changeRow])
	if err != nil {
		return nil, err
	}
	out := make([]*Change, 0, len(list))
	for _, r := range list {
		c := r.change()
		k := s.Capabilities(id, c)
		if !k.View || (f.Review && !k.Review()) {
			continue
		}
		c.Actions = k.Actions()
		out = append(out, c)
	}
	return out, nil
}

// ReviewQueue lists the changes in review on which id may decide now,
// optionally of one city, by due date: overdue ones first.
func (s *Service) ReviewQueue(ctx context.Context, id *auth.Identity, city string) ([]*Change, error) {
	list, err := s.List(ctx, id, Filter{State: InReview, City: city, Review: true})
	sortByDue(list)
	return list, err
}

// Comments returns a change's discussion, oldest first.
func (s *Service) Comments(ctx context.Context, changeID int64) ([]Comment, error) {
	rows, _ := s.pool.Query(ctx, `SELECT m.id, u.username, u.display_name, m.body, m.created_at
		FROM change_comments m JOIN users u ON u.id = m.author_id WHERE m.change_id = $1 ORDER BY m.id`, changeID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Comment])
}

// Revision returns a revision of the change's article by id, for diffs on
// the change page (the proposal, its base, and the current publication).
func (s *Service) Revision(ctx context.Context, c *Change, revID int64) (*wiki.Revision, error) {
	rev, err := s.store.RevisionByID(ctx, c.ArticleID, revID)
	if err != nil {
		return nil, err
	}
	return rev, nil
}

// Pending is an open change to an article, for the notice on the article
// and its editor: someone already works on it.
type Pending struct {
	ID         int64
	State      State
	AuthorName string
	// Visible: the reader may open the change (the notice links to it).
	Visible bool
}

// PendingChanges lists the submitted, unfinished changes to an article,
// and id's own drafts of it, oldest first. The caller has checked that id
// may read the article. Read requests take the article's open changes from
// the cache (see openChanges).
func (s *Service) PendingChanges(ctx context.Context, id *auth.Identity, articleID int64) ([]Pending, error) {
	if id == nil {
		return nil, nil
	}
	open, err := s.openChanges(ctx, articleID)
	if err != nil {
		return nil, err
	}
	var out []Pending
	for _, c := range open {
		if c.State == Draft && c.AuthorID != id.UserID {
			continue
		}
		name := c.AuthorName
		if name == "" {
			name = c.Author
		}
		out = append(out, Pending{ID: c.ID, State: c.State, AuthorName: name, Visible: s.Capabilities(id, c).View})
		if len(out) == maxPending {
			break
		}
	}
	return out, nil
}

// maxPending bounds the notice; maxOpen the open changes read per article
// (everyone's drafts among them).
const (
	maxPending = 20
	maxOpen    = 500
)

// loadOpenChanges reads an article's open changes: submitted and
// unfinished ones, and every author's drafts.
func (s *Service) loadOpenChanges(ctx context.Context, articleID int64) ([]*Change, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+changeColumns+changeFrom+` WHERE c.article_id = $1
		AND c.state IN ('in_review', 'changes_requested', 'conflict', 'draft')
		ORDER BY c.id LIMIT `+strconv.Itoa(maxOpen), articleID)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[changeRow])
	if err != nil {
		return nil, err
	}
	out := make([]*Change, len(list))
	for i, r := range list {
		out[i] = r.change()
	}
	return out, nil
}

// MayDo loads a change and answers whether id may perform a on it now,
// with the error the action itself would give (404 for a change id may
// not see, 403 or a state conflict otherwise): asked before a
// confirmation is offered, so the question is asked only of those who may.
func (s *Service) MayDo(ctx context.Context, id *auth.Identity, changeID int64, a Action) (*Change, error) {
	c, err := s.load(ctx, s.pool, changeID)
	if err != nil {
		return nil, err
	}
	if err := s.check(id, c, a); err != nil {
		return nil, err
	}
	return c, nil
}
