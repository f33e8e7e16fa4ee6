package workflow_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"hansewiki/workflow"
)

// A watcher who may no longer read an article learns nothing more about
// it: no notification and no mail about the change that made it city-only,
// no mail that was queued while it was still public and is sent only
// afterwards, and no entry (nor unread count) in the notification centre
// for the earlier changes, whose titles it would show.
func TestWatchersLearnNothingOfANarrowedArticle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	server := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, server.port())
	mailer := e.wf.Mailer(quiet)
	for _, u := range []string{"mitglied", "autor-hwi", "pruefer3"} {
		if err := e.wf.Watch(ctx, e.users[u], "rostock", "warnow-pegel", true); err != nil {
			t.Fatal(err)
		}
	}

	// A public edit is published: its watchers are told, the mails wait.
	edit := e.propose("autorin", "Neue Messstellen", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer1"), edit.ID, "", 0))
	if n, _ := e.wf.UnreadCount(ctx, e.users["mitglied"]); n != 1 {
		t.Fatalf("watcher has %d unread notifications after a public edit, want 1", n)
	}

	// Then the article becomes city-only, under a new title, before the
	// mailer ran.
	a := e.current("warnow-pegel")
	d := a.Revision.Draft()
	d.Title = "Vertrauliche Pegelplanung"
	d.Visibility = "city"
	narrow := e.must(e.wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true}))
	e.must(e.wf.Approve(ctx, e.meta("pruefer2"), narrow.ID, "", 0))
	drain(t, mailer)

	got := recipients(server.received())
	for _, outsider := range []string{"mitglied@example.org", "autor-hwi@example.org"} {
		if slices.Contains(got, outsider) {
			t.Errorf("%s was mailed about an article they may no longer read: %v", outsider, got)
		}
		name, _, _ := strings.Cut(outsider, "@")
		list, err := e.wf.Notifications(ctx, e.users[name], 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list {
			t.Errorf("%s's notification centre names the city-only article: %+v", name, n)
		}
		if n, _ := e.wf.UnreadCount(ctx, e.users[name]); n != 0 {
			t.Errorf("%s has %d unread notifications about an article they may not read", name, n)
		}
	}
	// Those who may read it are told, in-app and by mail.
	if !slices.Contains(got, "pruefer3@example.org") || !slices.Contains(got, "autorin@example.org") {
		t.Errorf("readers of the article were not mailed: %v", got)
	}
	list, err := e.wf.Notifications(ctx, e.users["pruefer3"], 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list, func(n workflow.Notification) bool { return n.Title == "Vertrauliche Pegelplanung" }) {
		t.Errorf("a watcher who may read the article misses its notification: %+v", list)
	}
	for _, m := range server.received() {
		if strings.Contains(m.Subject+m.Body, "Vertrauliche") && slices.ContainsFunc(m.To, func(to string) bool {
			return to == "mitglied@example.org" || to == "autor-hwi@example.org"
		}) {
			t.Errorf("the new title reached an outsider: %+v", m)
		}
	}
}
