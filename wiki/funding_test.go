package wiki_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hansewiki/wiki"
)

// An article file with the experience fields imports and exports again
// byte for byte, through the database; a kept programme named in another
// case is stored as the list spells it.
func TestExperienceFieldsSurviveImportAndExport(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.AddFundingProgramme(ctx, "Modellprojekte Smart Cities", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFundingProgramme(ctx, "modellprojekte smart cities", "test"); !errors.Is(err, wiki.ErrConflict) {
		t.Errorf("the same programme in other case: %v, want a conflict", err)
	}
	src := "---\ntitle: Hitzeaktionsplan\ntopics: [klimaresilienz]\ntags: [hitze]\nvisibility: public\nstatus: umsetzung\nstart_year: 2023\n" +
		"cost: rund 120.000 €\ncost_band: 50k-250k\nfunding: Modellprojekte Smart Cities\npartners: Gesundheitsamt\ncontact: Umweltamt\n---\n## Ausgangslage\n\nText.\n"
	typed := "---\ntitle: Trinkbrunnen\ntopics: []\ntags: []\nvisibility: network\ncost_band: unter-10k\nfunding: MODELLPROJEKTE SMART CITIES\n---\nText.\n"
	var items []wiki.ImportItem
	for i, f := range []string{src, typed} {
		it, err := wiki.ParseArticleFile([]byte(f))
		if err != nil {
			t.Fatal(err)
		}
		it.Draft.City, it.Source = "luebeck", string(rune('a'+i))
		items = append(items, it)
	}
	if _, err := s.ImportAll(ctx, items, wiki.ImportOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err := s.EachPublished(ctx, func(a *wiki.Article) error {
		b, err := wiki.FormatArticleFile(&a.Revision, a.Archived)
		out[a.Slug] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if out["hitzeaktionsplan"] != src {
		t.Errorf("export differs from the imported file:\n%s\nwant\n%s", out["hitzeaktionsplan"], src)
	}
	want := "---\ntitle: Trinkbrunnen\ntopics: []\ntags: []\nvisibility: network\ncost_band: unter-10k\nfunding: Modellprojekte Smart Cities\n---\nText.\n"
	if out["trinkbrunnen"] != want {
		t.Errorf("a kept programme typed in capitals:\n%s\nwant\n%s", out["trinkbrunnen"], want)
	}
	bad := items[0]
	bad.Draft.CostBand, bad.Draft.Slug, bad.Draft.Title = "1m", "", "Anders"
	if _, err := s.ImportAll(ctx, []wiki.ImportItem{bad}, wiki.ImportOptions{Actor: "test"}); err == nil || !strings.Contains(err.Error(), "cost_band") {
		t.Errorf("an unknown cost band imports: %v", err)
	}
}
