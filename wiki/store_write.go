package wiki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki/markdown"
)

// PublishedChannel is the PostgreSQL NOTIFY channel that announces every
// publication ("city/slug") to all instances, e.g. to drop cached pages.
const PublishedChannel = "hansewiki_published"

// CreateArticle reserves city/slug for a new article. It stays unpublished,
// and invisible to readers, until its first revision is published.
func CreateArticle(ctx context.Context, tx pgx.Tx, city, slug string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO articles (city, slug) VALUES ($1, $2) RETURNING id`, city, slug).Scan(&id)
	switch pgCode(err) {
	case "":
		return id, err
	case "23505":
		return 0, fmt.Errorf("article %s/%s already exists: %w", city, slug, ErrConflict)
	case "23503":
		return 0, invalid("city", "city.unknown", "there is no city %q", city)
	}
	return 0, err
}

// InsertRevision normalises and validates d, renders it, and writes it as a
// new immutable revision of the article. baseID is the revision it was based
// on (0 for a new article).
func (s *Store) InsertRevision(ctx context.Context, tx pgx.Tx, articleID, baseID, authorID int64, d *Draft) (Revision, error) {
	if err := d.Normalize(); err != nil {
		return Revision{}, err
	}
	if err := checkTopics(ctx, tx, d.Topics); err != nil {
		return Revision{}, err
	}
	res, err := s.render(ctx, tx, d.City, Audience(d.City, d.Visibility), d.Body)
	if err != nil {
		return Revision{}, err
	}
	toc, err := json.Marshal(res.TOC)
	if err != nil {
		return Revision{}, err
	}
	var base *int64
	if baseID != 0 {
		base = &baseID
	}
	var startYear *int
	if d.StartYear != 0 {
		startYear = &d.StartYear
	}
	rev := Revision{ArticleID: articleID, City: d.City, Slug: d.Slug, BaseRevisionID: baseID,
		Title: d.Title, Body: d.Body, Summary: d.Summary, Topics: d.Topics, Tags: d.Tags,
		Visibility: d.Visibility, Experience: d.Experience, HTML: res.HTML, TOC: res.TOC,
		Links: linkKeys(res.Links)}
	err = tx.QueryRow(ctx, `INSERT INTO revisions (article_id, base_revision_id, title, body, summary,
			visibility, topics, tags, status, start_year, cost, cost_band, funding, partners, contact, adopted_from,
			author_id, html, toc, links)
		VALUES (@article, @base, @title, @body, @summary, @visibility, @topics, @tags, @status,
			@start_year, @cost, @cost_band,
			coalesce((SELECT f.name FROM funding_programmes f WHERE lower(f.name) = lower(@funding)), @funding), @partners, @contact, nullif(@adopted_from, ''), @author, @html, @toc, @links)
		RETURNING id, created_at, (SELECT username FROM users WHERE id = @author), funding`,
		pgx.NamedArgs{"article": articleID, "base": base, "title": d.Title, "body": d.Body,
			"summary": d.Summary, "visibility": string(d.Visibility), "topics": d.Topics, "tags": d.Tags,
			"status": d.Status, "start_year": startYear, "cost": d.Cost, "cost_band": d.CostBand, "funding": d.Funding,
			"partners": d.Partners, "contact": d.Contact, "adopted_from": d.AdoptedFrom, "author": authorID, "html": res.HTML,
			"toc": toc, "links": rev.Links},
	).Scan(&rev.ID, &rev.CreatedAt, &rev.Author, &rev.Funding)
	if err != nil {
		return Revision{}, fmt.Errorf("inserting revision: %w", err)
	}
	if err := recordAttachments(ctx, tx, rev.ID, d.Body); err != nil {
		return Revision{}, fmt.Errorf("recording attachments: %w", err)
	}
	return rev, nil
}

func checkTopics(ctx context.Context, tx pgx.Tx, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	rows, _ := tx.Query(ctx, `SELECT t FROM unnest($1::text[]) t WHERE t NOT IN (SELECT slug FROM topics)`, topics)
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return invalid("topics", "topics.unknown", "unknown topic %q", unknown[0])
	}
	return nil
}

// render runs the Markdown pipeline for an article of city, resolving wiki
// links against the articles published as seen by tx. A link shows as an
// existing article (its class, and its title where written without text)
// only when audience may read the target; to everyone else it looks
// exactly like a link to an article that does not exist. audience is the
// least-privileged reader of the rendering: Audience of the revision for
// stored HTML, intersected with the viewer for a preview or a proposal.
func (s *Store) render(ctx context.Context, tx pgx.Tx, city string, audience Reader, body string) (markdown.Result, error) {
	resolve := func(targets []markdown.Link) ([]markdown.Target, error) {
		cities := make([]string, len(targets))
		slugs := make([]string, len(targets))
		for i, t := range targets {
			cities[i], slugs[i] = t.City, t.Slug
		}
		args := []any{cities, slugs}
		readable := "COALESCE(" + audience.sqlFilter("r.visibility", "a.city", &args) + ", false)"
		rows, _ := tx.Query(ctx, `SELECT r.id IS NOT NULL AND `+readable+`,
				CASE WHEN `+readable+` THEN r.title ELSE '' END
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(city, slug, n)
			LEFT JOIN articles a ON a.city = t.city AND a.slug = t.slug
			LEFT JOIN revisions r ON r.id = a.published_revision_id
			ORDER BY t.n`, args...)
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (markdown.Target, error) {
			var t markdown.Target
			var title *string
			err := row.Scan(&t.Exists, &title)
			if title != nil {
				t.Title = *title
			}
			return t, err
		})
	}
	files := func(ids []string) (map[string]markdown.File, error) {
		rows, _ := tx.Query(ctx, `SELECT id, size, coalesce(width, 0), coalesce(height, 0) FROM attachments WHERE id = ANY($1)`, ids)
		out := map[string]markdown.File{}
		var id string
		var f markdown.File
		_, err := pgx.ForEachRow(rows, []any{&id, &f.Size, &f.Width, &f.Height}, func() error {
			out[id] = f
			return nil
		})
		return out, err
	}
	res, err := s.renderer.RenderWithFiles(ctx, []byte(body), city, resolve, files)
	if err != nil {
		return res, fmt.Errorf("rendering: %w", err)
	}
	return res, nil
}

func linkKeys(links []markdown.Link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.City + "/" + l.Slug
	}
	return out
}

// Publish makes revision revID the published revision of its article,
// provided the article's published revision is still baseID (0: none yet);
// otherwise it returns ErrConflict and changes nothing. In the same
// transaction it updates the link graph and announces the publication to
// every instance; a database trigger queues the article for the search
// worker, which refreshes its search row right after commit.
func (s *Store) Publish(ctx context.Context, tx pgx.Tx, articleID, revID, baseID int64) error {
	var current *int64
	var city, slug string
	err := tx.QueryRow(ctx, `SELECT published_revision_id, city, slug FROM articles WHERE id = $1 FOR UPDATE`,
		articleID).Scan(&current, &city, &slug)
	if err != nil {
		return notFound(err, fmt.Sprintf("article %d", articleID))
	}
	var cur int64
	if current != nil {
		cur = *current
	}
	if cur != baseID {
		return fmt.Errorf("article %s/%s was changed since revision %d (now %d): %w", city, slug, baseID, cur, ErrConflict)
	}
	tag, err := tx.Exec(ctx, `UPDATE revisions SET published_at = now() WHERE id = $1 AND article_id = $2`, revID, articleID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("revision %d of article %d: %w", revID, articleID, ErrNotFound)
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE articles SET published_revision_id = $2, published_at = now() WHERE id = $1`, articleID, revID)
	batch.Queue(`DELETE FROM article_links WHERE from_article_id = $1`, articleID)
	batch.Queue(`INSERT INTO article_links (from_article_id, to_city, to_slug)
		SELECT $1, split_part(l, '/', 1), split_part(l, '/', 2) FROM revisions, unnest(links) l
		WHERE id = $2 ON CONFLICT DO NOTHING`, articleID, revID)
	batch.Queue(`SELECT pg_notify($1, $2)`, PublishedChannel, city+"/"+slug)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("publishing %s/%s: %w", city, slug, err)
	}
	if cur == 0 {
		// A new article turns its inbound links from "missing" to present.
		return s.rerenderLinkers(ctx, tx, city, slug)
	}
	// Links written without text show the title, and only where the
	// target's visibility allows: both may have changed.
	var retitled bool
	var was, is Visibility
	if err := tx.QueryRow(ctx, `SELECT o.title IS DISTINCT FROM n.title, o.visibility, n.visibility
		FROM revisions o, revisions n WHERE o.id = $1 AND n.id = $2`, cur, revID).Scan(&retitled, &was, &is); err != nil {
		return err
	}
	if retitled || was != is {
		return s.rerenderLinkers(ctx, tx, city, slug)
	}
	return nil
}

// SetArchived archives the article or brings it back, inside tx, and
// announces it to every instance (cached listings, the search worker; a
// trigger queues its search row). It reports whether anything changed.
func (s *Store) SetArchived(ctx context.Context, tx pgx.Tx, articleID int64, archived bool) (bool, error) {
	var key string
	err := tx.QueryRow(ctx, `UPDATE articles SET archived = $2 WHERE id = $1 AND archived <> $2
		RETURNING city || '/' || slug`, articleID, archived).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PublishedChannel, key)
	return err == nil, err
}

// rerenderLinkers refreshes the stored rendering of every revision that
// links to city/slug (published, earlier and proposed ones): a link turns
// from missing to present, or back when the target narrowed beyond the
// revision's readers, and shows the target's current title where it may.
func (s *Store) rerenderLinkers(ctx context.Context, tx pgx.Tx, city, slug string) error {
	type linker struct {
		ID         int64
		City       string
		Visibility Visibility
		Body       string
	}
	rows, _ := tx.Query(ctx, `SELECT r.id, a.city, r.visibility, r.body FROM revisions r
		JOIN articles a ON a.id = r.article_id
		WHERE r.links @> ARRAY[$1::text]`, city+"/"+slug)
	linkers, err := pgx.CollectRows(rows, pgx.RowToStructByPos[linker])
	if err != nil {
		return err
	}
	for _, l := range linkers {
		res, err := s.render(ctx, tx, l.City, Audience(l.City, l.Visibility), l.Body)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE revisions SET html = $2 WHERE id = $1 AND html <> $2`, l.ID, res.HTML); err != nil {
			return err
		}
	}
	return nil
}

// ImportItem is one article of an administrative import.
type ImportItem struct {
	Draft    Draft
	Archived bool   // imported as an archived article
	Source   string // where it came from, e.g. "luebeck/gruendaecher.md"
	// Files travel with the article (DIR/{city}/{slug}.files/).
	Files []ImportFile
}

// ImportError lists every item that cannot be imported, by source.
type ImportError struct {
	Problems []ImportProblem
}

// ImportProblem is one item's error.
type ImportProblem struct {
	Source string
	Err    error
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d file(s) cannot be imported; nothing was imported:", len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %v", p.Source, p.Err)
	}
	return b.String()
}

// ImportOptions describe an administrative import.
type ImportOptions struct {
	Actor string // who ran the import, for the audit log
	// SkipExisting leaves articles that already exist alone instead of
	// refusing the import (demo seeding).
	SkipExisting bool
	// Progress, when set, is called after each article.
	Progress func(done int, source string)
}

// ImportAll publishes every item as a new article, as an audited
// administrative import that needs no review, all in one transaction:
// either every article is imported or none is. Items are checked first, so
// the error lists every bad item, not just the first. An article that
// already exists is a conflict: imports never overwrite.
func (s *Store) ImportAll(ctx context.Context, items []ImportItem, opts ImportOptions) (imported int, err error) {
	todo, err := s.checkImport(ctx, items, opts.SkipExisting)
	if err != nil {
		return 0, err
	}
	err = s.txFunc(ctx, func(tx pgx.Tx) error {
		for i, it := range todo {
			if err := s.importOne(ctx, tx, it, opts.Actor); err != nil {
				return &ImportError{Problems: []ImportProblem{{Source: it.Source, Err: err}}}
			}
			if opts.Progress != nil {
				opts.Progress(i+1, it.Source)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(todo), nil
}

// checkImport validates all items against the limits, the cities and topics
// and the existing articles, and returns those to import.
func (s *Store) checkImport(ctx context.Context, items []ImportItem, skipExisting bool) ([]ImportItem, error) {
	cities, err := s.Cities(ctx)
	if err != nil {
		return nil, err
	}
	topics, err := s.Topics(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, c := range cities {
		known["city:"+c.Slug] = true
	}
	for _, t := range topics {
		known["topic:"+t.Slug] = true
	}
	rows, _ := s.pool.Query(ctx, `SELECT city || '/' || slug FROM articles`)
	existing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, e := range existing {
		known["article:"+e] = true
	}
	var problems []ImportProblem
	var todo []ImportItem
	seen := map[string]string{}
	for _, it := range items {
		d := &it.Draft
		problem := func(err error) { problems = append(problems, ImportProblem{Source: it.Source, Err: err}) }
		if err := d.Normalize(); err != nil {
			problem(err)
			continue
		}
		key := d.City + "/" + d.Slug
		switch {
		case !known["city:"+d.City]:
			problem(invalid("city", "city.unknown", "there is no city %q", d.City))
			continue
		case seen[key] != "":
			problem(fmt.Errorf("duplicate slug: %s is also imported from %s: %w", key, seen[key], ErrConflict))
			continue
		case known["article:"+key] && skipExisting:
			continue
		case known["article:"+key]:
			problem(fmt.Errorf("duplicate slug: article %s already exists: %w", key, ErrConflict))
			continue
		}
		seen[key] = it.Source
		for _, t := range d.Topics {
			if !known["topic:"+t] {
				problem(invalid("topics", "topics.unknown", "unknown topic %q", t))
				break
			}
		}
		todo = append(todo, it)
	}
	if len(problems) > 0 {
		return nil, &ImportError{Problems: problems}
	}
	return todo, nil
}

func (s *Store) importOne(ctx context.Context, tx pgx.Tx, it ImportItem, actor string) error {
	d := it.Draft
	id, err := CreateArticle(ctx, tx, d.City, d.Slug)
	if err != nil {
		return err
	}
	// The files first: the revision records what it refers to.
	for _, f := range it.Files {
		if err := s.importFile(ctx, tx, d.City, f); err != nil {
			return err
		}
	}
	rev, err := s.InsertRevision(ctx, tx, id, 0, SystemUserID, &d)
	if err != nil {
		return err
	}
	if err := s.Publish(ctx, tx, id, rev.ID, 0); err != nil {
		return err
	}
	info := map[string]any{"revision": rev.ID, "source": it.Source}
	if it.Archived {
		if _, err := tx.Exec(ctx, `UPDATE articles SET archived = true WHERE id = $1`, id); err != nil {
			return err
		}
		info["archived"] = true
	}
	detail, _ := json.Marshal(info)
	_, err = tx.Exec(ctx, `INSERT INTO audit_events (actor, action, object, detail) VALUES ($1, 'article.import', $2, $3)`,
		actor, "article:"+d.City+"/"+d.Slug, detail)
	return err
}

// Preview renders Markdown for an article of city with visibility vis
// for reader, with wiki links resolved against published articles: a link
// shows as existing only where both the reader and every reader of such an
// article may read the target (RenderFor). An unknown visibility counts as
// public; a body over MaxBodyBytes is ErrTooLarge, as it could not be saved.
func (s *Store) Preview(ctx context.Context, reader Reader, city string, vis Visibility, body string) (markdown.Result, error) {
	if err := checkBodySize(body); err != nil {
		return markdown.Result{}, err
	}
	if !vis.Valid() {
		vis = Public
	}
	return s.renderFor(ctx, Audience(city, vis).Intersect(reader), city, body)
}

// RenderFor renders rev again for one viewer (a proposal on its change
// page): its stored HTML was made for the revision's readers, and the
// viewer, say a proposal's author from another city, may know less.
func (s *Store) RenderFor(ctx context.Context, reader Reader, rev *Revision) error {
	res, err := s.renderFor(ctx, Audience(rev.City, rev.Visibility).Intersect(reader), rev.City, rev.Body)
	if err != nil {
		return err
	}
	rev.HTML = res.HTML
	return nil
}

func (s *Store) renderFor(ctx context.Context, audience Reader, city, body string) (markdown.Result, error) {
	var res markdown.Result
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		res, err = s.render(ctx, tx, city, audience, body)
		return err
	})
	return res, err
}
