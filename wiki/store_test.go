package wiki_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) *wiki.Store {
	t.Helper()
	return wiki.NewStore(pgtest.Pool(t), markdown.New())
}

func item(city, title, body string, vis wiki.Visibility, topics ...string) wiki.ImportItem {
	return wiki.ImportItem{Source: city + "/" + title, Draft: wiki.Draft{City: city, Title: title, Body: body,
		Visibility: vis, Topics: topics}}
}

func mustImport(t *testing.T, s *wiki.Store, items ...wiki.ImportItem) {
	t.Helper()
	if _, err := s.ImportAll(context.Background(), items, wiki.ImportOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

var (
	anonymous    = wiki.Reader{}
	member       = wiki.Reader{Member: true}
	rostockStaff = wiki.Reader{Member: true, Cities: []string{"rostock"}}
	networkAdmin = wiki.Reader{Member: true, Cities: []string{wiki.AllCities}}
)

func TestImportPublishesAndReadersSeeOnlyWhatTheyMay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s,
		item("rostock", "Gründächer für Starkregen", "Siehe [[wismar/regenwasser|Regenwasser in Wismar]].", wiki.Public, "klimaresilienz"),
		item("rostock", "Interne Kostenplanung", "Nur für Rostock.", wiki.CityVis, "klimaresilienz"),
		item("wismar", "Regenwasser", "Zurück zu [[rostock/gruendaecher-fuer-starkregen]].", wiki.Network, "wasser-umwelt"),
	)

	a, err := s.Article(ctx, anonymous, "rostock", "gruendaecher-fuer-starkregen")
	if err != nil {
		t.Fatal(err)
	}
	if a.Revision.Title != "Gründächer für Starkregen" || a.CityName != "Hanse- und Universitätsstadt Rostock" {
		t.Fatalf("article = %q in %q", a.Revision.Title, a.CityName)
	}
	// The public page links to a network article: to its readers (anyone)
	// the link looks exactly like one to a missing article.
	if !strings.Contains(a.Revision.HTML, `href="/c/wismar/regenwasser" class="wikilink wikilink-missing"`) {
		t.Errorf("a public page marks its link to a network-only article as existing: %s", a.Revision.HTML)
	}
	// The network article, imported later, links back to the public page,
	// which its readers may all open.
	net, err := s.Article(ctx, member, "wismar", "regenwasser")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(net.Revision.HTML, `href="/c/rostock/gruendaecher-fuer-starkregen" class="wikilink">Gründächer für Starkregen</a>`) {
		t.Errorf("link to a public article must be present, with its title: %s", net.Revision.HTML)
	}

	cases := []struct {
		reader     wiki.Reader
		city, slug string
		visible    bool
	}{
		{anonymous, "rostock", "interne-kostenplanung", false},
		{anonymous, "wismar", "regenwasser", false},
		{member, "wismar", "regenwasser", true},
		{member, "rostock", "interne-kostenplanung", false},
		{rostockStaff, "rostock", "interne-kostenplanung", true},
		{networkAdmin, "rostock", "interne-kostenplanung", true},
	}
	for _, c := range cases {
		_, err := s.Article(ctx, c.reader, c.city, c.slug)
		if c.visible && err != nil || !c.visible && !errors.Is(err, wiki.ErrNotFound) {
			t.Errorf("reader %s reading %s/%s: err = %v, want visible=%v", c.reader.Key(), c.city, c.slug, err, c.visible)
		}
		// History and revisions follow the same rule.
		_, err = s.Revisions(ctx, c.reader, c.city, c.slug)
		if c.visible != (err == nil) {
			t.Errorf("reader %s history of %s/%s: err = %v", c.reader.Key(), c.city, c.slug, err)
		}
	}

	// Backlinks hide linking articles the reader may not see.
	back, err := s.Backlinks(ctx, anonymous, "rostock", "gruendaecher-fuer-starkregen")
	if err != nil || len(back) != 0 {
		t.Errorf("anonymous backlinks = %v, %v; the only linker is network-only", back, err)
	}
	back, err = s.Backlinks(ctx, member, "rostock", "gruendaecher-fuer-starkregen")
	if err != nil || len(back) != 1 || back[0].Slug != "regenwasser" {
		t.Errorf("member backlinks = %v, %v", back, err)
	}
}

func TestListingsMatchTheVisibilityRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	var items []wiki.ImportItem
	for _, city := range []string{"luebeck", "rostock", "wismar"} {
		for _, vis := range []wiki.Visibility{wiki.Public, wiki.Network, wiki.CityVis} {
			items = append(items, item(city, "Artikel "+string(vis), "Text", vis, "energie"))
		}
	}
	mustImport(t, s, items...)
	for _, r := range []wiki.Reader{anonymous, member, rostockStaff, {Member: true, Cities: []string{"rostock", "wismar"}}, networkAdmin} {
		list, err := s.ListArticles(ctx, r, wiki.ListFilter{Topic: "energie"})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, a := range list {
			got = append(got, a.City+"/"+string(a.Visibility))
		}
		for _, it := range items {
			if r.CanRead(it.Draft.City, it.Draft.Visibility) {
				want = append(want, it.Draft.City+"/"+string(it.Draft.Visibility))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("reader %s lists %v, the rule allows %v", r.Key(), got, want)
		}
		byCity, byTopic, err := s.Counts(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if byTopic["energie"] != len(want) || byCity["luebeck"]+byCity["rostock"]+byCity["wismar"] != len(want) {
			t.Errorf("reader %s counts %v %v, want %d", r.Key(), byCity, byTopic, len(want))
		}
	}
}

func TestMissingLinkIsMarkedUntilTheTargetIsPublished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s, item("stralsund", "Hafenquartier", "Siehe [[Klimaplan]].", wiki.Public))
	a, _ := s.Article(ctx, anonymous, "stralsund", "hafenquartier")
	if !strings.Contains(a.Revision.HTML, "wikilink-missing") {
		t.Fatalf("link to a missing page not marked: %s", a.Revision.HTML)
	}
	mustImport(t, s, item("stralsund", "Klimaplan", "Inhalt", wiki.Public))
	a, _ = s.Article(ctx, anonymous, "stralsund", "hafenquartier")
	if strings.Contains(a.Revision.HTML, "wikilink-missing") {
		t.Fatalf("link still marked missing after the target was published: %s", a.Revision.HTML)
	}
	back, _ := s.Backlinks(ctx, anonymous, "stralsund", "klimaplan")
	if len(back) != 1 {
		t.Fatalf("backlinks of the new page = %v", back)
	}
}

func TestImportRefusesBadInputAndImportsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s, item("wismar", "Vorhanden", "Text", wiki.Public))
	items := []wiki.ImportItem{
		item("wismar", "Gut", "Text", wiki.Public),
		item("atlantis", "Unbekannte Stadt", "Text", wiki.Public),
		item("wismar", "Vorhanden", "schon da", wiki.Public),
		item("wismar", "Doppelt", "eins", wiki.Public),
		item("wismar", "Doppelt", "zwei", wiki.Public),
		item("wismar", "Zu groß", strings.Repeat("a", 2<<20), wiki.Public),
		item("wismar", "Unbekanntes Thema", "Text", wiki.Public, "astrologie"),
		item("wismar", "Kaputt \xff", "Text", wiki.Public),
	}
	for i := range items {
		items[i].Source = "file" + string(rune('A'+i)) + ".md"
	}
	_, err := s.ImportAll(ctx, items, wiki.ImportOptions{Actor: "test"})
	var ie *wiki.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want ImportError", err)
	}
	var sources []string
	for _, p := range ie.Problems {
		sources = append(sources, p.Source)
	}
	want := []string{"fileB.md", "fileC.md", "fileE.md", "fileF.md", "fileG.md", "fileH.md"}
	if !slices.Equal(sources, want) {
		t.Errorf("problems named %v, want %v\n%v", sources, want, err)
	}
	for _, p := range ie.Problems {
		if p.Source == "fileF.md" && !errors.Is(p.Err, wiki.ErrTooLarge) {
			t.Errorf("2 MiB body: %v, want ErrTooLarge", p.Err)
		}
	}
	list, _ := s.ListArticles(ctx, networkAdmin, wiki.ListFilter{})
	if len(list) != 1 {
		t.Fatalf("%d articles after a refused import, want only the one imported before", len(list))
	}
}

func TestPublishRefusesAStaleBase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s, item("schwerin", "E-Akte Einführung", "Version 1", wiki.Public, "e-akte"))
	a, err := s.Article(ctx, anonymous, "schwerin", "e-akte-einfuehrung")
	if err != nil {
		t.Fatal(err)
	}
	base := a.Revision.ID
	propose := func(body string) wiki.Revision {
		var rev wiki.Revision
		err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			d := a.Revision.Draft()
			d.Body = body
			var err error
			rev, err = s.InsertRevision(ctx, tx, a.ID, base, wiki.SystemUserID, &d)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	first, second := propose("Version 2a"), propose("Version 2b")
	publish := func(rev wiki.Revision) error {
		return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error { return s.Publish(ctx, tx, a.ID, rev.ID, base) })
	}
	if err := publish(first); err != nil {
		t.Fatal(err)
	}
	if err := publish(second); !errors.Is(err, wiki.ErrConflict) {
		t.Fatalf("publishing over a newer revision: %v, want ErrConflict", err)
	}
	a, _ = s.Article(ctx, anonymous, "schwerin", "e-akte-einfuehrung")
	if a.Revision.Body != "Version 2a" {
		t.Fatalf("published body = %q", a.Revision.Body)
	}
	hist, _ := s.Revisions(ctx, anonymous, "schwerin", "e-akte-einfuehrung")
	if len(hist) != 2 || !hist[0].IsCurrent || hist[0].ID != first.ID {
		t.Fatalf("history = %+v", hist)
	}
	old, err := s.Revision(ctx, anonymous, "schwerin", "e-akte-einfuehrung", base)
	if err != nil || old.Body != "Version 1" {
		t.Fatalf("old revision = %v, %v", old, err)
	}
	// The unpublished proposal is not part of the public history.
	if _, err := s.Revision(ctx, anonymous, "schwerin", "e-akte-einfuehrung", second.ID); !errors.Is(err, wiki.ErrNotFound) {
		t.Fatalf("unpublished revision readable: %v", err)
	}
}

func TestPublicationsAreAnnounced(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newStore(t)
	got := make(chan string, 4)
	l := wiki.NewListener(s.Pool(), nil)
	l.Subscribe(wiki.PublishedChannel, func(_ context.Context, key string) error {
		if key != wiki.AnyChange {
			got <- key
		}
		return nil
	})
	startListener(t, l)
	mustImport(t, s, item("luebeck", "Quartiersbus", "Text", wiki.Public, "mobilitaet"))
	select {
	case key := <-got:
		if key != "luebeck/quartiersbus" {
			t.Fatalf("announced %q", key)
		}
	case <-ctx.Done():
		t.Fatal("no announcement of the publication")
	}
}

// Links written without text show the target's title, but only where every
// reader of the linking article may read the target; when the target's
// title or visibility changes, the linking articles follow.
func TestLinksShowTitlesOnlyWhereEveryReaderMay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustImport(t, s,
		item("rostock", "Öffentliche Karte", "Text", wiki.Public),
		item("wismar", "Netzwerkbericht", "Text", wiki.Network),
		item("schwerin", "Interne Planung", "Text", wiki.CityVis),
		item("rostock", "Rostocker Interna", "Text", wiki.CityVis),
	)
	links := "[[oeffentliche-karte]] [[wismar/netzwerkbericht]] [[schwerin/interne-planung]] [[rostocker-interna]]"
	mustImport(t, s,
		item("rostock", "Übersicht öffentlich", links, wiki.Public),
		item("rostock", "Übersicht Netzwerk", links, wiki.Network),
		item("rostock", "Übersicht Rostock", links, wiki.CityVis),
	)
	// label returns a link's text, and "" when the link is marked missing
	// (then its text must be the address as written, as for an article
	// that does not exist).
	label := func(slug, href string) string {
		t.Helper()
		a, err := s.Article(ctx, networkAdmin, "rostock", slug)
		if err != nil {
			t.Fatal(err)
		}
		_, after, ok := strings.Cut(a.Revision.HTML, `href="`+href+`" class="wikilink`)
		if !ok {
			t.Fatalf("%s has no link to %s: %s", slug, href, a.Revision.HTML)
		}
		attrs, rest, _ := strings.Cut(after, ">")
		text, _, _ := strings.Cut(rest, "</a>")
		if strings.HasPrefix(attrs, ` wikilink-missing"`) {
			if !strings.HasSuffix(href, "/"+text) {
				t.Errorf("%s: missing link to %s shows %q", slug, href, text)
			}
			return ""
		}
		return text
	}
	// Where not every reader of the page may open the target, the link is
	// marked missing: its class and title would tell that it exists.
	want := map[string][4]string{
		"uebersicht-oeffentlich": {"Öffentliche Karte", "", "", ""},
		"uebersicht-netzwerk":    {"Öffentliche Karte", "Netzwerkbericht", "", ""},
		"uebersicht-rostock":     {"Öffentliche Karte", "Netzwerkbericht", "", "Rostocker Interna"},
	}
	hrefs := [4]string{"/c/rostock/oeffentliche-karte", "/c/wismar/netzwerkbericht", "/c/schwerin/interne-planung", "/c/rostock/rostocker-interna"}
	for slug, labels := range want {
		for i, href := range hrefs {
			if got := label(slug, href); got != labels[i] {
				t.Errorf("%s links %s as %q, want %q", slug, href, got, labels[i])
			}
		}
	}

	// The target is renamed, then made city-only: the public overview
	// follows, and never shows the title to readers who may not open it.
	publish := func(mutate func(d *wiki.Draft)) {
		t.Helper()
		a, err := s.Article(ctx, networkAdmin, "rostock", "oeffentliche-karte")
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
	publish(func(d *wiki.Draft) { d.Title = "Starkregen-Hinweiskarte" })
	if got := label("uebersicht-oeffentlich", hrefs[0]); got != "Starkregen-Hinweiskarte" {
		t.Errorf("after the rename the public overview shows %q", got)
	}
	publish(func(d *wiki.Draft) { d.Visibility = wiki.CityVis })
	if got := label("uebersicht-oeffentlich", hrefs[0]); got != "" {
		t.Errorf("the public overview marks a now city-only article as existing: %q", got)
	}
	if got := label("uebersicht-rostock", hrefs[0]); got != "Starkregen-Hinweiskarte" {
		t.Errorf("Rostock's city-only overview shows %q", got)
	}
}
