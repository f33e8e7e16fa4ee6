package wiki_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki"
)

// linkState is how a rendering shows the link to href: its text, or ""
// when it is marked missing.
func linkState(t *testing.T, html, href string) string {
	t.Helper()
	_, after, ok := strings.Cut(html, `href="`+href+`" class="wikilink`)
	if !ok {
		t.Fatalf("no link to %s in %s", href, html)
	}
	attrs, rest, _ := strings.Cut(after, ">")
	text, _, _ := strings.Cut(rest, "</a>")
	if strings.HasPrefix(attrs, ` wikilink-missing"`) {
		return ""
	}
	return text
}

// The preview shows a link as existing only where the requester AND every
// reader of the chosen visibility may open the target: choosing "city-only
// of Rostock" does not let a member without a Rostock role test which
// Rostock articles exist, nor read their titles.
func TestPreviewResolvesLinksForTheRequesterAndTheAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s,
		item("rostock", "Öffentliche Karte", "Text", wiki.Public),
		item("rostock", "Netzwerkbericht", "Text", wiki.Network),
		item("rostock", "Rostocker Interna", "Text", wiki.CityVis),
		item("wismar", "Wismarer Interna", "Text", wiki.CityVis),
	)
	body := "[[oeffentliche-karte]] [[netzwerkbericht]] [[rostocker-interna]] [[wismar/wismarer-interna]] [[gibt-es-nicht]]"
	hrefs := []string{"/c/rostock/oeffentliche-karte", "/c/rostock/netzwerkbericht", "/c/rostock/rostocker-interna",
		"/c/wismar/wismarer-interna", "/c/rostock/gibt-es-nicht"}
	titles := []string{"Öffentliche Karte", "Netzwerkbericht", "Rostocker Interna", "Wismarer Interna", ""}
	readers := map[string]wiki.Reader{"anonymous": anonymous, "member": member, "Rostock staff": rostockStaff,
		"Wismar staff": {Member: true, Cities: []string{"wismar"}}, "network admin": networkAdmin}
	for name, r := range readers {
		for _, vis := range []wiki.Visibility{wiki.Public, wiki.Network, wiki.CityVis} {
			res, err := s.Preview(ctx, r, "rostock", vis, body)
			if err != nil {
				t.Fatal(err)
			}
			audience := wiki.Audience("rostock", vis)
			for i, href := range hrefs {
				city, slug, _ := strings.Cut(strings.TrimPrefix(href, "/c/"), "/")
				vis := map[int]wiki.Visibility{0: wiki.Public, 1: wiki.Network, 2: wiki.CityVis, 3: wiki.CityVis}[i]
				want := ""
				if i < 4 && r.CanRead(city, vis) && audience.CanRead(city, vis) {
					want = titles[i]
				}
				if got := linkState(t, res.HTML, href); got != want {
					t.Errorf("%s previewing a %s Rostock article: link to %s/%s shows %q, want %q", name, vis, city, slug, got, want)
				}
			}
		}
	}
	if _, err := s.Preview(ctx, member, "rostock", wiki.Public, strings.Repeat("x", wiki.MaxBodyBytes+1)); !errors.Is(err, wiki.ErrTooLarge) {
		t.Errorf("preview of a body over the limit: err = %v, want ErrTooLarge", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Preview(cancelled, member, "rostock", wiki.Public, body); err == nil {
		t.Error("preview went on rendering after its request ended")
	}
}

// Stored renderings of every revision, earlier ones included, mark a link
// as existing only where every reader of that revision may open the
// target, and follow when the target's visibility narrows. RenderFor shows
// a revision to one viewer without what the viewer may not know.
func TestStoredRenderingsFollowANarrowedTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s, item("rostock", "Hitzeplan", "Text", wiki.Public))
	mustImport(t, s, item("rostock", "Übersicht", "Siehe [[hitzeplan]].", wiki.Public))
	publish := func(slug string, mutate func(d *wiki.Draft)) {
		t.Helper()
		a, err := s.Article(ctx, networkAdmin, "rostock", slug)
		if err != nil {
			t.Fatal(err)
		}
		err = pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			var author int64
			if err := tx.QueryRow(ctx, `SELECT author_id FROM revisions WHERE id = $1`, a.Revision.ID).Scan(&author); err != nil {
				return err
			}
			d := a.Revision.Draft()
			mutate(&d)
			rev, err := s.InsertRevision(ctx, tx, a.ID, a.Revision.ID, author, &d)
			if err != nil {
				return err
			}
			return s.Publish(ctx, tx, a.ID, rev.ID, a.Revision.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The overview gets a second revision; the first stays in its history.
	publish("uebersicht", func(d *wiki.Draft) { d.Body += "\n\nErgänzt." })
	history, err := s.Revisions(ctx, anonymous, "rostock", "uebersicht")
	if err != nil || len(history) != 2 {
		t.Fatalf("history: %v, %v", history, err)
	}
	const href = "/c/rostock/hitzeplan"
	for _, h := range history {
		rev, err := s.Revision(ctx, anonymous, "rostock", "uebersicht", h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := linkState(t, rev.HTML, href); got != "Hitzeplan" {
			t.Fatalf("revision %d before narrowing shows %q", h.ID, got)
		}
	}

	publish("hitzeplan", func(d *wiki.Draft) { d.Visibility = wiki.CityVis })
	for _, h := range history {
		rev, err := s.Revision(ctx, anonymous, "rostock", "uebersicht", h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := linkState(t, rev.HTML, href); got != "" {
			t.Errorf("revision %d of the public overview still marks the now city-only target as existing: %q", h.ID, got)
		}
		// Rostock's staff may open it, but the stored page is shared with
		// everyone; for one of them alone it may be shown.
		if err := s.RenderFor(ctx, rostockStaff, rev); err != nil {
			t.Fatal(err)
		}
		if got := linkState(t, rev.HTML, href); got != "" {
			t.Errorf("RenderFor widened a public revision's audience: %q", got)
		}
	}

	// A city-only proposal of Rostock rendered for an author from Wismar:
	// the stored rendering (for Rostock's staff) names the target, the
	// author's view must not.
	a, err := s.Article(ctx, networkAdmin, "rostock", "uebersicht")
	if err != nil {
		t.Fatal(err)
	}
	proposal := a.Revision
	proposal.Visibility = wiki.CityVis
	if err := s.RenderFor(ctx, rostockStaff, &proposal); err != nil {
		t.Fatal(err)
	}
	if got := linkState(t, proposal.HTML, href); got != "Hitzeplan" {
		t.Errorf("Rostock's staff see the link in a Rostock-only proposal as %q", got)
	}
	if err := s.RenderFor(ctx, wiki.Reader{Member: true, Cities: []string{"wismar"}}, &proposal); err != nil {
		t.Fatal(err)
	}
	if got := linkState(t, proposal.HTML, href); got != "" {
		t.Errorf("an author from Wismar sees the link to a Rostock-only article in the proposal as %q", got)
	}
}
