package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// Random sequences of actions by random people — authors of the city and of
// others, reviewers of the city, of another city and of "*", admins of the
// city and of the network, a plain member — with fresh, stale, foreign and
// missing revisions, and policy changes in between. Whatever happens, two
// promises hold: nothing is published without the quorum recorded at its
// submission in distinct approvals of the published revision by others than
// its author, and every publication is based on the one before it, so no
// published edit is lost. Every refusal is a domain error, never a crash.
func TestWorkflowProperties(t *testing.T) {
	t.Parallel()
	seeds, steps := []uint64{1, 2, 3, 4}, 250
	if testing.Short() {
		seeds, steps = seeds[:1], 120
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			runWorkflowProperties(t, seed, steps)
		})
	}
}

func runWorkflowProperties(t *testing.T, seed uint64, steps int) {
	e := newEnv(t)
	ctx := context.Background()
	e.grant("netz-admin", [2]string{"admin", "*"})
	e.grant("netz-pruefer", [2]string{"reviewer", "*"})
	e.grant("autorin2", [2]string{"author", "rostock"})
	people := []string{"autorin", "autorin2", "autor-hwi", "pruefer1", "pruefer2", "pruefer3", "pruef-hwi",
		"admin-hro", "netz-admin", "netz-pruefer", "mitglied"}
	proposers := []string{"autorin", "autorin2", "autor-hwi", "admin-hro", "netz-admin"}
	rng := rand.New(rand.NewPCG(seed, 99))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	var changes []int64
	var seenRevisions []int64
	slugs := []string{"warnow-pegel"}
	counts := map[string]int{}

	for step := range steps {
		var err error
		var op string
		who := pick(people)
		m := e.meta(who)
		var c *workflow.Change
		if len(changes) > 0 {
			cid := changes[rng.IntN(len(changes))]
			if rng.IntN(5) > 0 { // mostly act on open changes, where things happen
				var open []int64
				rows, _ := e.pool.Query(ctx, `SELECT id FROM change_requests WHERE state NOT IN ('published', 'rejected', 'withdrawn')`)
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					open = append(open, id)
				}
				if len(open) > 0 {
					cid = open[rng.IntN(len(open))]
				}
			}
			c, _ = e.wf.Get(ctx, e.users["netz-admin"], cid)
		}
		if c != nil && rng.IntN(3) > 0 {
			// Mostly people who may act: the author, or a reviewer of the city.
			who = pick([]string{c.Author, "pruefer1", "pruefer2", "pruefer3", "admin-hro", "netz-pruefer", "netz-admin"})
			m = e.meta(who)
		}
		revision := func() int64 {
			switch rng.IntN(4) {
			case 0:
				return 0
			case 1:
				if len(seenRevisions) > 0 {
					return seenRevisions[rng.IntN(len(seenRevisions))]
				}
			}
			if c != nil {
				return c.Revision
			}
			return 0
		}
		switch r := rng.IntN(20); {
		case r < 4 || c == nil: // propose
			op = "create"
			who = pick(proposers)
			slug := slugs[rng.IntN(len(slugs))]
			d := wiki.Draft{City: "rostock", Title: "Warnow-Pegel", Body: fmt.Sprintf("Schritt %d", step), Visibility: wiki.Public}
			p := workflow.Proposal{Draft: d, Submit: rng.IntN(2) == 0}
			if rng.IntN(5) == 0 {
				p.Draft.Title = fmt.Sprintf("Neu %d", step)
			} else {
				a, aerr := e.store.Article(ctx, wiki.Reader{Member: true, Cities: []string{"*"}}, "rostock", slug)
				if errors.Is(aerr, wiki.ErrNotFound) { // a new article not published (yet)
					slug = "warnow-pegel"
					a, aerr = e.store.Article(ctx, wiki.Reader{Member: true, Cities: []string{"*"}}, "rostock", slug)
				}
				if aerr != nil {
					t.Fatal(aerr)
				}
				p.Slug, p.BaseRevision = slug, a.Revision.ID
				p.Draft.Title = a.Revision.Title
				if rng.IntN(4) == 0 && len(seenRevisions) > 0 {
					p.BaseRevision = seenRevisions[rng.IntN(len(seenRevisions))]
				}
			}
			var nc *workflow.Change
			if nc, err = e.wf.Create(ctx, e.meta(who), p); err == nil {
				changes = append(changes, nc.ID)
				seenRevisions = append(seenRevisions, nc.Revision)
				if nc.NewArticle && p.Slug == "" {
					slugs = append(slugs, nc.Slug)
				}
			}
		case r < 7:
			op = "update"
			if c.State == workflow.Conflict {
				op = "rebase"
			}
			if rng.IntN(2) == 0 {
				who, m = c.Author, e.meta(c.Author)
			}
			base := int64(0)
			switch rng.IntN(4) {
			case 0, 3:
				if pub, perr := e.store.PublishedRevisionID(ctx, c.ArticleID); perr == nil {
					base = pub
				}
			case 1:
				if c.BaseRevision != nil {
					base = *c.BaseRevision
				}
			case 2:
				base = revision()
			}
			var nc *workflow.Change
			if nc, err = e.wf.Update(ctx, m, c.ID, wiki.Draft{Title: c.Title, Body: fmt.Sprintf("Überarbeitet %d", step), Visibility: wiki.Network}, base); err == nil {
				seenRevisions = append(seenRevisions, nc.Revision)
			}
		case r < 9:
			op = "submit"
			if rng.IntN(2) == 0 {
				who, m = c.Author, e.meta(c.Author)
			}
			_, err = e.wf.Submit(ctx, m, c.ID, "")
		case r < 15:
			op = "approve"
			_, err = e.wf.Approve(ctx, m, c.ID, "", revision())
		case r < 16:
			op = "request-changes"
			_, err = e.wf.RequestChanges(ctx, m, c.ID, "Bitte ändern", revision())
		case r < 17:
			op = "reject"
			_, err = e.wf.Reject(ctx, m, c.ID, "Nein", revision())
		case r < 18:
			op = "withdraw"
			if rng.IntN(2) == 0 {
				who, m = c.Author, e.meta(c.Author)
			}
			_, err = e.wf.Withdraw(ctx, m, c.ID, "")
		default:
			op = "policy"
			_, err = e.store.SetRequiredApprovals(ctx, "rostock", 1+rng.IntN(3), "test")
		}
		if err != nil {
			if !errors.Is(err, wiki.ErrConflict) && !errors.Is(err, wiki.ErrForbidden) &&
				!errors.Is(err, wiki.ErrNotFound) && !errors.Is(err, wiki.ErrInvalid) {
				t.Fatalf("step %d: %s by %s: not a domain error: %v", step, op, who, err)
			}
			counts[op+" refused"]++
		} else {
			counts[op]++
		}
	}
	t.Logf("seed %d: %v", seed, counts)

	// Every publication had its recorded quorum of distinct non-author
	// approvals of exactly the published revision.
	rows, _ := e.pool.Query(ctx, `SELECT c.id, coalesce(c.required_approvals, 0),
			(SELECT count(DISTINCT v.reviewer_id) FROM reviews v WHERE v.change_id = c.id AND v.decision = 'approve'
				AND v.revision_id = c.revision_id AND v.reviewer_id <> c.author_id),
			(SELECT r.published_at IS NOT NULL FROM revisions r WHERE r.id = c.revision_id)
		FROM change_requests c WHERE c.state = 'published'`)
	var id int64
	var quorum int32
	var approvals int64
	var revPublished bool
	published := 0
	for rows.Next() {
		if err := rows.Scan(&id, &quorum, &approvals, &revPublished); err != nil {
			t.Fatal(err)
		}
		published++
		if quorum < 1 || approvals < int64(quorum) || !revPublished {
			t.Errorf("change %d published with quorum %v and %d approvals of its revision (revision published: %v)", id, quorum, approvals, revPublished)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	// Nobody approved their own change.
	var own int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM reviews v JOIN change_requests c ON c.id = v.change_id WHERE v.reviewer_id = c.author_id`).Scan(&own)
	// Each publication is based on the previous one; the article shows the last.
	var broken, stale int
	e.pool.QueryRow(ctx, `WITH p AS (
			SELECT r.id, r.article_id, r.base_revision_id,
				lag(r.id) OVER (PARTITION BY r.article_id ORDER BY r.published_at, r.id) AS predecessor
			FROM revisions r WHERE r.published_at IS NOT NULL)
		SELECT count(*) FROM p WHERE base_revision_id IS DISTINCT FROM predecessor`).Scan(&broken)
	e.pool.QueryRow(ctx, `SELECT count(*) FROM articles a WHERE a.published_revision_id IS DISTINCT FROM
			(SELECT r.id FROM revisions r WHERE r.article_id = a.id AND r.published_at IS NOT NULL ORDER BY r.published_at DESC, r.id DESC LIMIT 1)`).Scan(&stale)
	if own != 0 || broken != 0 || stale != 0 {
		t.Errorf("%d self-reviews, %d publications not based on their predecessor, %d articles not showing their last publication", own, broken, stale)
	}
	if published == 0 {
		t.Errorf("seed %d published nothing: the sequence tests too little", seed)
	}
}
