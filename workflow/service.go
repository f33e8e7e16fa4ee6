package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Permissions is the part of auth the workflow asks: the enforcer decides
// roles, the workflow adds the rules that need data (four-eyes, authorship).
type Permissions interface {
	Can(id *auth.Identity, a auth.Action, city string) bool
	ReadableCities(id *auth.Identity) []string
	CitiesWhere(id *auth.Identity, a auth.Action) []string
	// Holders lists who may perform a in city, for whom to notify.
	Holders(a auth.Action, city string) []auth.Holder
	// IdentityByID loads a user with their roles (for a notification's
	// recipient); a disabled account is auth.ErrUnauthenticated.
	IdentityByID(ctx context.Context, userID int64) (*auth.Identity, error)
}

// Service runs change requests through review.
type Service struct {
	pool  *pgxpool.Pool
	store *wiki.Store
	perm  Permissions
	log   *slog.Logger
	// Mail, when set, queues an e-mail with every notification to users
	// who have an address.
	Mail *MailSettings
	// caches serve read requests (see cache.go).
	caches *caches
	// jobs is the periodic work (see jobs.go).
	jobs jobs
	// hooks delivers webhooks (see webhook_deliver.go).
	hooks *webhooks
	// fresh caches review states for the confirmation button (freshness.go).
	fresh freshnessCache
	// skew moves the clock that edit windows are decided by (see Skew).
	skew atomic.Int64
}

// Skew moves the clock the service decides edit windows by (comments,
// questions, answers) by d; tests use it instead of sleeping.
func (s *Service) Skew(d time.Duration) { s.skew.Add(int64(d)) }

// now is the time edit windows are decided by.
func (s *Service) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }

// NewService returns the workflow service.
func NewService(store *wiki.Store, perm Permissions, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{pool: store.Pool(), store: store, perm: perm, log: log, caches: newCaches()}
	s.registerAbsenceJobs()
	s.registerDeadlineJobs()
	initWebhooks(s)
	s.registerUpkeep()
	return s
}

// reader is what id may read, by the one visibility rule.
// Reader is what id may read: the one visibility rule (wiki.Reader) fed
// with the cities auth says id may read. Pages, API and workflow all use it.
func (s *Service) Reader(id *auth.Identity) wiki.Reader {
	if id == nil {
		return wiki.Reader{}
	}
	return wiki.Reader{Member: true, Cities: s.perm.ReadableCities(id)}
}

// Meta is who acts and from where, for the audit log.
type Meta struct {
	Identity *auth.Identity
	Addr     string
}

func (m Meta) actor() string { return m.Identity.Username }

// Create proposes a new article or a change to an existing one, as a draft,
// or submitted for review when p.Submit is set.
func (s *Service) Create(ctx context.Context, m Meta, p Proposal) (*Change, error) {
	id := m.Identity
	d := p.Draft
	if p.Slug != "" {
		d.Slug = p.Slug
	}
	if err := d.Normalize(); err != nil {
		return nil, err
	}
	if p.Slug == "" && !s.perm.Can(id, auth.CreateArticle, d.City) {
		return nil, fmt.Errorf("creating articles in %s: %w", d.City, wiki.ErrForbidden)
	}
	var changeID int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var articleID, base int64
		if p.Slug == "" {
			var err error
			if articleID, err = s.reserveArticle(ctx, tx, d.City, d.Slug); err != nil {
				return err
			}
		} else {
			// Read in the transaction: one connection, and the base is
			// checked against what this transaction sees.
			a, err := s.store.In(tx).Article(ctx, s.Reader(id), d.City, d.Slug)
			if err != nil {
				return err
			}
			if !s.perm.Can(id, auth.ProposeChange, d.City) {
				return fmt.Errorf("proposing changes: %w", wiki.ErrForbidden)
			}
			if p.BaseRevision == 0 {
				return &wiki.InvalidError{Field: "base_revision", Key: "base_revision.missing",
					Message: "a change to an existing article needs the base_revision it was edited from"}
			}
			if p.BaseRevision != a.Revision.ID {
				return fmt.Errorf("the article was changed since revision %d (now %d); edit the current version: %w",
					p.BaseRevision, a.Revision.ID, wiki.ErrConflict)
			}
			articleID, base = a.ID, a.Revision.ID
		}
		if err := s.checkAdoption(ctx, tx, id, d); err != nil {
			return err
		}
		if err := s.checkAttachments(ctx, tx, id, d.Body); err != nil {
			return err
		}
		rev, err := s.store.InsertRevision(ctx, tx, articleID, base, id.UserID, &d)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO change_requests (article_id, author_id, state, base_revision_id, revision_id)
			VALUES ($1, $2, 'draft', $3, $4) RETURNING id`, articleID, id.UserID, nullable(base), rev.ID).Scan(&changeID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, m, "change.create", changeID, map[string]any{"article": d.City + "/" + d.Slug, "revision": rev.ID, "base": base}); err != nil {
			return err
		}
		if p.Submit {
			return s.submitTx(ctx, tx, m, changeID, "")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.loadFor(ctx, id, changeID)
}

// reserveArticle creates the article row for a new article, or reuses one
// whose earlier proposal was rejected or withdrawn before it was ever
// published.
func (s *Service) reserveArticle(ctx context.Context, tx pgx.Tx, city, slug string) (int64, error) {
	var id int64
	var published, open bool
	err := tx.QueryRow(ctx, `SELECT a.id, a.published_revision_id IS NOT NULL,
			EXISTS (SELECT 1 FROM change_requests c WHERE c.article_id = a.id AND c.state NOT IN ('published', 'rejected', 'withdrawn'))
		FROM articles a WHERE a.city = $1 AND a.slug = $2 FOR UPDATE`, city, slug).Scan(&id, &published, &open)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return wiki.CreateArticle(ctx, tx, city, slug)
	case err != nil:
		return 0, err
	case published:
		return 0, &TakenError{City: city, Slug: slug, Published: true}
	case open:
		t := &TakenError{City: city, Slug: slug}
		if err := tx.QueryRow(ctx, `SELECT id FROM change_requests WHERE article_id = $1
			AND state NOT IN ('published', 'rejected', 'withdrawn') ORDER BY id LIMIT 1`, id).Scan(&t.Change); err != nil {
			return 0, err
		}
		return 0, t
	}
	return id, nil
}

// lockChange loads a change for a transition and holds its row lock until
// the transaction ends, so two reviewers can never both act on one state.
func (s *Service) lockChange(ctx context.Context, tx pgx.Tx, changeID int64) (*Change, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM change_requests WHERE id = $1 FOR UPDATE`, changeID); err != nil {
		return nil, err
	}
	return s.load(ctx, tx, changeID)
}

// lockFor locks the change and checks that id may take action a on it:
// ErrNotFound for those who may not see it, ErrForbidden for those who may
// not act, a StateError when the state does not allow the action.
func (s *Service) lockFor(ctx context.Context, tx pgx.Tx, id *auth.Identity, changeID int64, a Action) (*Change, error) {
	c, err := s.lockChange(ctx, tx, changeID)
	if err != nil {
		return nil, err
	}
	return c, s.check(id, c, a)
}

// check turns the capabilities into the answer for one action.
func (s *Service) check(id *auth.Identity, c *Change, a Action) error {
	k := s.Capabilities(id, c)
	switch {
	case !k.View:
		return fmt.Errorf("change %d: %w", c.ID, wiki.ErrNotFound)
	case k.May(a):
		return nil
	}
	// Would the action be open to this person in another state?
	if !Allowed(a, c.State) && s.mayInAnyState(id, c, a) {
		return &StateError{Action: a, State: c.State}
	}
	switch a {
	case ActApprove, ActRequestChanges, ActReject:
		if isAuthor(id, c) {
			return fmt.Errorf("nobody decides on their own change (four-eyes principle): %w", wiki.ErrForbidden)
		}
		return fmt.Errorf("reviewing changes of %s: %w", c.City, wiki.ErrForbidden)
	}
	return fmt.Errorf("only the author can %s this proposal: %w", a, wiki.ErrForbidden)
}

// mayInAnyState asks the capabilities of c as if it were in each state
// that allows a: a refusal is then about the state (409), not the person.
func (s *Service) mayInAnyState(id *auth.Identity, c *Change, a Action) bool {
	for _, st := range transitions[a] {
		other := *c
		other.State = st
		if s.Capabilities(id, &other).May(a) {
			return true
		}
	}
	return false
}

// Update replaces the proposed revision of a draft or a change with
// requested changes, keeping its state; base must be 0 or the change's base.
// For a change in conflict it is the rebase: base must be the article's
// current published revision, and the change returns to review under the
// quorum recorded at its first submission. Any other base is a conflict.
// Approvals given so far stay in the history but no longer count.
func (s *Service) Update(ctx context.Context, m Meta, changeID int64, d wiki.Draft, base int64) (*Change, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := s.lockChange(ctx, tx, changeID)
		if err != nil {
			return err
		}
		action := ActUpdate
		if c.State == Conflict {
			action = ActRebase
		}
		if err := s.check(m.Identity, c, action); err != nil {
			return err
		}
		if err := checkResolved(&d); err != nil {
			return err
		}
		oldBase := int64(0)
		if c.BaseRevision != nil {
			oldBase = *c.BaseRevision
		}
		newBase := oldBase
		if action == ActRebase {
			current, err := s.store.In(tx).PublishedRevisionID(ctx, c.ArticleID)
			if err != nil {
				return err
			}
			if base == 0 || base != current {
				return fmt.Errorf("this change is in conflict: rebase it by sending the article's current revision %d as base_revision: %w",
					current, wiki.ErrConflict)
			}
			newBase = base
		} else if base != 0 && base != oldBase {
			return fmt.Errorf("base_revision %d is not this change's base %d; a change is rebased only when it is in conflict: %w",
				base, oldBase, wiki.ErrConflict)
		}
		d.City, d.Slug = c.City, c.Slug
		if err := s.checkAdoption(ctx, tx, m.Identity, d); err != nil {
			return err
		}
		if err := s.checkAttachments(ctx, tx, m.Identity, d.Body); err != nil {
			return err
		}
		rev, err := s.store.InsertRevision(ctx, tx, c.ArticleID, newBase, m.Identity.UserID, &d)
		if err != nil {
			return err
		}
		state, event := c.State, "change.update"
		if action == ActRebase {
			state, event = InReview, "change.rebase"
		}
		if _, err := tx.Exec(ctx, `UPDATE change_requests SET revision_id = $2, base_revision_id = $3, state = $4, updated_at = now()
			WHERE id = $1`, changeID, rev.ID, nullable(newBase), state); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, m, event, changeID, map[string]any{"revision": rev.ID, "base": newBase,
			"voided_approvals": c.Approvals, "required_approvals": c.RequiredApprovals}); err != nil {
			return err
		}
		if action == ActRebase {
			c.Revision = rev.ID
			if err := startReviewClock(ctx, tx, changeID, c.City); err != nil {
				return err
			}
			return s.notifyReviewers(ctx, tx, c, m.actor())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.loadFor(ctx, m.Identity, changeID)
}

func nullable(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Submit sends a draft or a reworked change to the city's reviewers.
func (s *Service) Submit(ctx context.Context, m Meta, changeID int64, comment string) (*Change, error) {
	return s.transition(ctx, m, changeID, func(tx pgx.Tx) error { return s.submitTx(ctx, tx, m, changeID, comment) })
}

// submitTx is the only way into review: it records the city's quorum at
// the first submission, and that quorum stays with the change.
func (s *Service) submitTx(ctx context.Context, tx pgx.Tx, m Meta, changeID int64, comment string) error {
	c, err := s.lockFor(ctx, tx, m.Identity, changeID, ActSubmit)
	if err != nil {
		return err
	}
	// A draft may be empty; what reviewers are asked to read may not.
	var empty bool
	if err := tx.QueryRow(ctx, `SELECT btrim(body, E' \t\r\n') = '' FROM revisions WHERE id = $1`, c.Revision).Scan(&empty); err != nil {
		return err
	}
	if empty {
		return &wiki.InvalidError{Field: "body", Key: "body.empty", Message: "an empty text cannot be submitted for review"}
	}
	var policy int
	if err := tx.QueryRow(ctx, `UPDATE change_requests SET state = 'in_review', updated_at = now(),
			submitted_at = coalesce(submitted_at, now()),
			required_approvals = coalesce(required_approvals, (SELECT required_approvals FROM cities WHERE slug = $2))
		WHERE id = $1 RETURNING required_approvals`, changeID, c.City).Scan(&policy); err != nil {
		return err
	}
	if err := startReviewClock(ctx, tx, changeID, c.City); err != nil {
		return err
	}
	if err := s.addComment(ctx, tx, changeID, m.Identity.UserID, comment); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, m, "change.submit", changeID, map[string]any{"revision": c.Revision, "required_approvals": policy}); err != nil {
		return err
	}
	if err := s.notifyReviewers(ctx, tx, c, m.actor()); err != nil {
		return err
	}
	return s.changeWebhook(ctx, tx, "change.submitted", c, m.actor())
}

// Approve records an approval of revision (0: the current one; another
// revision is a conflict: the reviewer read another text). With the quorum
// the change is published, or goes to conflict when the article moved on.
func (s *Service) Approve(ctx context.Context, m Meta, changeID int64, comment string, revision int64) (*Change, error) {
	return s.decide(ctx, m, changeID, Approve, comment, revision)
}

// RequestChanges sends the change back to its author; a comment is required.
func (s *Service) RequestChanges(ctx context.Context, m Meta, changeID int64, comment string, revision int64) (*Change, error) {
	return s.decide(ctx, m, changeID, RequestChanges, comment, revision)
}

// Reject ends the change; a comment is required.
func (s *Service) Reject(ctx context.Context, m Meta, changeID int64, comment string, revision int64) (*Change, error) {
	return s.decide(ctx, m, changeID, Reject, comment, revision)
}

var decisionAction = map[Decision]Action{Approve: ActApprove, RequestChanges: ActRequestChanges, Reject: ActReject}

// RevisionError answers a decision about a revision that is no longer the
// change's current one (409).
type RevisionError struct{ Given, Current int64 }

func (e *RevisionError) Error() string {
	return fmt.Sprintf("revision %d is not the change's current revision %d: read the current text before deciding", e.Given, e.Current)
}

func (e *RevisionError) Unwrap() error { return wiki.ErrConflict }

func (s *Service) decide(ctx context.Context, m Meta, changeID int64, d Decision, comment string, revision int64) (*Change, error) {
	comment = strings.TrimSpace(comment)
	if !utf8.ValidString(comment) || len(comment) > 20000 {
		return nil, &wiki.InvalidError{Field: "comment", Key: "comment.length", Message: "the comment may have at most 20,000 bytes of text"}
	}
	if revision < 0 {
		return nil, &wiki.InvalidError{Field: "revision", Key: "revision.invalid", Message: "revision must be a revision id"}
	}
	return s.transition(ctx, m, changeID, func(tx pgx.Tx) error {
		c, err := s.lockFor(ctx, tx, m.Identity, changeID, decisionAction[d])
		if err != nil {
			return err
		}
		if revision != 0 && revision != c.Revision {
			return &RevisionError{Given: revision, Current: c.Revision}
		}
		if d != Approve && comment == "" {
			return &wiki.InvalidError{Field: "comment", Key: "comment.required", Message: "say what should change: a comment is required"}
		}
		if d == Approve {
			var already bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reviews WHERE change_id = $1 AND reviewer_id = $2
				AND revision_id = $3 AND decision = 'approve')`, changeID, m.Identity.UserID, c.Revision).Scan(&already); err != nil {
				return err
			}
			if already {
				return nil // the same reviewer twice counts once
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO reviews (change_id, reviewer_id, revision_id, decision, comment) VALUES ($1, $2, $3, $4, $5)`,
			changeID, m.Identity.UserID, c.Revision, string(d), comment); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, m, "change."+string(decisionAction[d]), changeID,
			map[string]any{"revision": c.Revision, "required_approvals": c.RequiredApprovals, "comment": comment}); err != nil {
			return err
		}
		switch d {
		case RequestChanges:
			return s.setState(ctx, tx, m, c, ChangesRequested, "change.changes_requested", comment)
		case Reject:
			if err := s.changeWebhook(ctx, tx, "change.rejected", c, m.actor()); err != nil {
				return err
			}
			return s.setState(ctx, tx, m, c, Rejected, "change.rejected", comment)
		}
		// Count again with the new approval, in this transaction.
		if c, err = s.load(ctx, tx, changeID); err != nil {
			return err
		}
		if !quorumMet(c) {
			return s.notify(ctx, tx, []int64{c.AuthorID}, "change.approved", c, m.actor(), comment)
		}
		return s.publish(ctx, tx, m, c, comment)
	})
}

// publish makes the change's revision the article's published one, or moves
// the change to conflict when another change was published first.
func (s *Service) publish(ctx context.Context, tx pgx.Tx, m Meta, c *Change, comment string) error {
	if !quorumMet(c) {
		// Unreachable through decide; the last guard of the promise.
		return fmt.Errorf("change %d has %d of %d approvals: %w", c.ID, c.Approvals, c.Quorum(), wiki.ErrConflict)
	}
	base := int64(0)
	if c.BaseRevision != nil {
		base = *c.BaseRevision
	}
	err := s.store.Publish(ctx, tx, c.ArticleID, c.Revision, base)
	if errors.Is(err, wiki.ErrConflict) {
		if err := s.audit(ctx, tx, m, "change.conflict", c.ID, map[string]any{"revision": c.Revision, "base": base}); err != nil {
			return err
		}
		return s.setState(ctx, tx, m, c, Conflict, "change.conflict", comment)
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO watches (user_id, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.AuthorID, c.ArticleID); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, m, "change.published", c.ID, map[string]any{"revision": c.Revision, "base": base,
		"article": c.City + "/" + c.Slug, "required_approvals": c.Quorum(), "approvals": c.Approvals}); err != nil {
		return err
	}
	if err := s.setState(ctx, tx, m, c, Published, "", ""); err != nil {
		return err
	}
	if err := s.changeWebhook(ctx, tx, "change.published", c, m.actor()); err != nil {
		return err
	}
	rows, _ := tx.Query(ctx, `SELECT user_id FROM watches WHERE article_id = $1`, c.ArticleID)
	watchers, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	// The author hears the deciding reviewer's comment; watchers only
	// that it was published.
	watchers = slices.DeleteFunc(watchers, func(u int64) bool { return u == c.AuthorID })
	if err := s.notify(ctx, tx, []int64{c.AuthorID}, "change.published", c, m.actor(), comment); err != nil {
		return err
	}
	return s.notify(ctx, tx, watchers, "change.published", c, m.actor(), "")
}

// setState moves c to state and tells the author (notification kind kind)
// with the reviewer's comment.
func (s *Service) setState(ctx context.Context, tx pgx.Tx, m Meta, c *Change, state State, kind, comment string) error {
	closed := state.Final()
	if _, err := tx.Exec(ctx, `UPDATE change_requests SET state = $2, updated_at = now(),
		closed_at = CASE WHEN $3 THEN now() ELSE closed_at END WHERE id = $1`, c.ID, state, closed); err != nil {
		return err
	}
	if kind == "" {
		return nil
	}
	return s.notify(ctx, tx, []int64{c.AuthorID}, kind, c, m.actor(), comment)
}

// Withdraw ends a change that is not final yet; only its author may.
func (s *Service) Withdraw(ctx context.Context, m Meta, changeID int64, comment string) (*Change, error) {
	return s.transition(ctx, m, changeID, func(tx pgx.Tx) error {
		c, err := s.lockFor(ctx, tx, m.Identity, changeID, ActWithdraw)
		if err != nil {
			return err
		}
		if err := s.addComment(ctx, tx, changeID, m.Identity.UserID, comment); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, m, "change.withdraw", changeID, map[string]any{"revision": c.Revision}); err != nil {
			return err
		}
		return s.setState(ctx, tx, m, c, Withdrawn, "", "")
	})
}

// transition runs fn in one transaction and returns the change afterwards,
// as the actor sees it.
func (s *Service) transition(ctx context.Context, m Meta, changeID int64, fn func(pgx.Tx) error) (*Change, error) {
	if err := s.inTx(ctx, fn); err != nil {
		return nil, err
	}
	return s.loadFor(ctx, m.Identity, changeID)
}

// loadFor reads the change after a transition with the actions still open
// to id.
func (s *Service) loadFor(ctx context.Context, id *auth.Identity, changeID int64) (*Change, error) {
	c, err := s.load(ctx, s.pool, changeID)
	if err != nil {
		return nil, err
	}
	c.Actions = s.Capabilities(id, c).Actions()
	return c, s.fillWarnings(ctx, c)
}

// AddComment adds a message to the change's discussion; everyone who may
// see the change may take part.
func (s *Service) AddComment(ctx context.Context, m Meta, changeID int64, body string) error {
	body = strings.TrimSpace(body)
	if body == "" || !utf8.ValidString(body) || len(body) > 20000 {
		return &wiki.InvalidError{Field: "body", Key: "comment.length", Message: "a comment has 1 to 20,000 bytes of text"}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := s.load(ctx, tx, changeID)
		if err != nil {
			return err
		}
		if !s.Capabilities(m.Identity, c).Comment {
			return fmt.Errorf("change %d: %w", changeID, wiki.ErrNotFound)
		}
		if err := s.addComment(ctx, tx, changeID, m.Identity.UserID, body); err != nil {
			return err
		}
		var to []int64
		if c.AuthorID != m.Identity.UserID {
			to = append(to, c.AuthorID)
		}
		return s.notify(ctx, tx, to, "change.comment", c, m.actor(), "")
	})
}

func (s *Service) addComment(ctx context.Context, tx pgx.Tx, changeID, authorID int64, body string) error {
	body = strings.TrimSpace(body)
	if body == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO change_comments (change_id, author_id, body) VALUES ($1, $2, $3)`, changeID, authorID, body)
	return err
}

// audit appends a hash-chained event (the chain is kept by a trigger). In
// a transition it is written just before COMMIT (see inTx).
func (s *Service) audit(ctx context.Context, tx pgx.Tx, m Meta, action string, changeID int64, detail map[string]any) error {
	return s.auditObject(ctx, tx, m, action, fmt.Sprintf("change:%d", changeID), detail)
}

// auditObject records an event about any object ("article:rostock/pegel").
func (s *Service) auditObject(ctx context.Context, tx pgx.Tx, m Meta, action, object string, detail map[string]any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	e := pendingEvent{actor: m.actor(), action: action, object: object, detail: d, addr: m.Addr}
	if at, ok := tx.(*auditedTx); ok {
		at.events = append(at.events, e)
		return nil
	}
	_, err = tx.Exec(ctx, auditInsert, e.actor, e.action, e.object, e.detail, e.addr)
	return err
}
