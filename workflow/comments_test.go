package workflow_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// A comment's mail is checked again when it is sent: a watcher who may no
// longer read the article (it became city-only in between) gets none,
// while a reader of the city still does.
func TestCommentMailFollowsTheArticleWhenSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	server := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, server.port())
	mailer := e.wf.Mailer(quiet)
	for _, name := range []string{"autor-hwi", "autorin"} {
		if err := e.wf.Watch(ctx, e.users[name], "rostock", "warnow-pegel", true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.wf.AddArticleComment(ctx, e.meta("mitglied"), "rostock", "warnow-pegel", "Wie hoch stand das Wasser?", nil); err != nil {
		t.Fatal(err)
	}
	// Queued for both; before it is sent the article becomes city-only.
	a := e.current("warnow-pegel")
	d := a.Revision.Draft()
	d.Visibility = wiki.CityVis
	c := e.must(e.wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true}))
	if c = e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "", 0)); c.State != workflow.Published {
		t.Fatalf("after approval: %s", c.State)
	}
	drain(t, mailer)
	var told []string
	for _, m := range server.received() {
		if strings.Contains(m.Subject, "Neuer Kommentar zu einem Artikel") {
			told = append(told, m.To...)
			if !strings.Contains(m.Body, "> Wie hoch stand das Wasser?") || !strings.Contains(m.Body, "/c/rostock/warnow-pegel#comments-title") {
				t.Errorf("comment mail:\n%s", m.Body)
			}
		}
	}
	if !slices.Equal(told, []string{"autorin@example.org"}) {
		t.Errorf("comment mail went to %v, want only the Rostock author", told)
	}
}
