package workflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"hansewiki/wiki"
	"hansewiki/wiki/textdiff"
	"hansewiki/workflow"
)

const pegelText = "# Warnow-Pegel\n\nDer Pegel misst stündlich.\n\nDie Daten gehen an das Land.\n\nKontakt: Amt 66.\n"

// conflictOf publishes pegelText, then a colleague's edit (colleague) and
// then approves the author's edit of the same text (mine), which goes to
// conflict.
func (e *env) conflictOf(colleague, mine func(*wiki.Draft)) *workflow.Change {
	e.t.Helper()
	ctx := context.Background()
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), e.propose("autorin", pegelText, true).ID, "", 0))
	edit := func(user string, fn func(*wiki.Draft)) *workflow.Change {
		a := e.current("warnow-pegel")
		d := a.Revision.Draft()
		fn(&d)
		return e.must(e.wf.Create(ctx, e.meta(user), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true}))
	}
	theirs, ours := edit("autor-hwi", colleague), edit("autorin", mine)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), theirs.ID, "", 0))
	c := e.must(e.wf.Approve(ctx, e.meta("pruefer2"), ours.ID, "", 0))
	if c.State != workflow.Conflict {
		e.t.Fatalf("second change from the same base: %s, want conflict", c.State)
	}
	return c
}

func mergedDraft(m *workflow.Merge, summary string) wiki.Draft {
	return wiki.Draft{Title: m.Title, Body: m.Body, Summary: summary, Topics: m.Topics, Tags: m.Tags,
		Visibility: m.Visibility, Experience: m.Experience}
}

// Two authors edit different paragraphs: the merge holds both edits and
// no conflict, and publishing it keeps the colleague's correction.
func TestConflictMergeKeepsBothEdits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.conflictOf(func(d *wiki.Draft) {
		d.Body = strings.Replace(d.Body, "Amt 66", "Amt 67", 1)
		d.Tags = []string{"pegel"}
		d.Cost = "12.000 €"
	}, func(d *wiki.Draft) {
		d.Body = strings.Replace(d.Body, "stündlich", "alle 15 Minuten", 1)
		d.Title = "Warnow-Pegel in Rostock"
	})
	published := e.current("warnow-pegel").Revision
	m, err := e.wf.Merge(ctx, e.users["autorin"], c)
	if err != nil {
		t.Fatal(err)
	}
	wantBody := "# Warnow-Pegel\n\nDer Pegel misst alle 15 Minuten.\n\nDie Daten gehen an das Land.\n\nKontakt: Amt 67.\n"
	if m.Body != wantBody || m.Conflicts != 0 || len(m.ConflictingFields) != 0 {
		t.Fatalf("merge: %d conflicts, fields %v\n%s", m.Conflicts, m.ConflictingFields, m.Body)
	}
	if m.BaseRevision != published.ID || m.Title != "Warnow-Pegel in Rostock" || !slices.Equal(m.Tags, []string{"pegel"}) ||
		m.Cost != "12.000 €" || m.Visibility != wiki.Public {
		t.Fatalf("fields: %+v", m)
	}
	// Reviewers of the city see the same merge.
	if rm, err := e.wf.Merge(ctx, e.users["pruefer1"], c); err != nil || rm.Body != m.Body {
		t.Fatalf("reviewer's merge: %v", err)
	}
	c = e.must(e.wf.Update(ctx, e.meta("autorin"), c.ID, mergedDraft(m, "zusammengeführt"), m.BaseRevision))
	if c.State != workflow.InReview {
		t.Fatalf("after the rebase: %s", c.State)
	}
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0))
	now := e.current("warnow-pegel").Revision
	if now.Body != wantBody || now.Title != "Warnow-Pegel in Rostock" || now.Cost != "12.000 €" || !slices.Equal(now.Tags, []string{"pegel"}) {
		t.Fatalf("published after the merge: %q %q %q %v", now.Title, now.Body, now.Cost, now.Tags)
	}
	// Merge is only for changes in conflict.
	if _, err := e.wf.Merge(ctx, e.users["autorin"], c); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("merge of a published change: %v", err)
	}
}

// Both authors change the same line: the merge marks it, a body that still
// holds the markers is refused, and the resolved text goes to review.
func TestConflictMarkersMustBeResolved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.conflictOf(func(d *wiki.Draft) {
		d.Body = strings.Replace(d.Body, "stündlich", "jede Stunde", 1)
		d.Title = "Pegel der Warnow"
		d.Visibility = wiki.Network
	}, func(d *wiki.Draft) {
		d.Body = strings.Replace(strings.Replace(d.Body, "stündlich", "alle 15 Minuten", 1), "Amt 66", "Amt 68", 1)
		d.Title = "Warnow-Pegel in Rostock"
	})
	m, err := e.wf.Merge(ctx, e.users["autorin"], c)
	if err != nil {
		t.Fatal(err)
	}
	block := textdiff.MarkerOurs + "\nDer Pegel misst alle 15 Minuten.\n" + textdiff.MarkerSep + "\nDer Pegel misst jede Stunde.\n" + textdiff.MarkerTheirs + "\n"
	if m.Conflicts != 1 || !strings.Contains(m.Body, block) || !strings.Contains(m.Body, "Amt 68") {
		t.Fatalf("merge: %d conflicts\n%s", m.Conflicts, m.Body)
	}
	// The title changed on both sides: the proposal's stays, flagged; the
	// visibility changed on one side only: the publication's is taken.
	if m.Title != "Warnow-Pegel in Rostock" || !slices.Equal(m.ConflictingFields, []string{"title"}) || m.Visibility != wiki.Network {
		t.Fatalf("fields: %q %v %s", m.Title, m.ConflictingFields, m.Visibility)
	}
	d := mergedDraft(m, "")
	if _, err := e.wf.Update(ctx, e.meta("autorin"), c.ID, d, m.BaseRevision); !errors.Is(err, workflow.ErrUnresolved) || !errors.Is(err, wiki.ErrInvalid) {
		t.Fatalf("rebase with markers: %v, want merge.unresolved", err)
	}
	// Half a block is just as unresolved.
	d.Body = strings.Replace(m.Body, textdiff.MarkerOurs+"\n", "", 1)
	if _, err := e.wf.Update(ctx, e.meta("autorin"), c.ID, d, m.BaseRevision); !errors.Is(err, workflow.ErrUnresolved) {
		t.Fatalf("rebase with the closing marker left: %v", err)
	}
	if got := e.must(e.wf.Get(ctx, e.users["autorin"], c.ID)); got.State != workflow.Conflict || got.Revision != c.Revision {
		t.Fatalf("a refused rebase changed the change: %s, revision %d", got.State, got.Revision)
	}
	d.Body = strings.Replace(m.Body, block, "Der Pegel misst alle 15 Minuten.\n", 1)
	c = e.must(e.wf.Update(ctx, e.meta("autorin"), c.ID, d, m.BaseRevision))
	if c.State != workflow.InReview {
		t.Fatalf("after the rebase: %s", c.State)
	}
	// Drafts are held to the same rule.
	draft := e.propose("autorin", "Entwurf", false)
	d.Body = block
	if _, err := e.wf.Update(ctx, e.meta("autorin"), draft.ID, d, 0); !errors.Is(err, workflow.ErrUnresolved) {
		t.Fatalf("draft with markers: %v", err)
	}
}

// An author of another city whose proposal conflicts with a publication
// that made the article city-only does not get its text through the merge.
func TestConflictMergeRespectsNarrowedVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), e.propose("autorin", pegelText, true).ID, "", 0))
	a := e.current("warnow-pegel")
	mine := a.Revision.Draft()
	mine.Body = strings.Replace(mine.Body, "stündlich", "alle 15 Minuten", 1)
	fromWismar := e.must(e.wf.Create(ctx, e.meta("autor-hwi"), workflow.Proposal{Draft: mine, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true}))
	narrow := a.Revision.Draft()
	narrow.Body = strings.Replace(narrow.Body, "Amt 66", "Geheimes Amt", 1)
	narrow.Visibility = wiki.CityVis
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), e.must(e.wf.Create(ctx, e.meta("autorin"),
		workflow.Proposal{Draft: narrow, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true})).ID, "", 0))
	fromWismar = e.must(e.wf.Approve(ctx, e.meta("pruefer2"), fromWismar.ID, "", 0))
	if fromWismar.State != workflow.Conflict {
		t.Fatalf("state %s, want conflict", fromWismar.State)
	}
	if m, err := e.wf.Merge(ctx, e.users["autor-hwi"], fromWismar); !errors.Is(err, wiki.ErrForbidden) {
		t.Fatalf("merge for an author who may no longer read the article: %v %+v", err, m)
	}
	if _, err := e.wf.Merge(ctx, e.users["mitglied"], fromWismar); !errors.Is(err, wiki.ErrNotFound) {
		t.Fatalf("merge for someone who may not see the change: %v", err)
	}
	m, err := e.wf.Merge(ctx, e.users["pruefer1"], fromWismar)
	if err != nil || m.Conflicts != 0 || !strings.Contains(m.Body, "Geheimes Amt") || m.Visibility != wiki.CityVis {
		t.Fatalf("the city's reviewer: %v %+v", err, m)
	}
}
