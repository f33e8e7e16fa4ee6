package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hansewiki/wiki"
)

// TestNothingLeaks searches, suggests and asks for similar articles as
// every kind of reader on both backends, with queries aimed at the
// network-only and city-only articles, and fails on any hit, snippet, facet
// count, total, suggestion or similar article that reveals an article the
// reader cannot open (by wiki.Reader.CanRead, the one visibility rule).
func TestNothingLeaks(t *testing.T) {
	t.Parallel()
	keys, backends := withFixtures(t, fixtures)
	readers := map[string]wiki.Reader{
		"anonymous":       {},
		"member":          {Member: true},
		"Schwerin staff":  {Member: true, Cities: []string{"schwerin"}},
		"Rostock staff":   {Member: true, Cities: []string{"rostock"}},
		"network admin":   {Member: true, Cities: []string{wiki.AllCities}},
		"roles, no login": {Cities: []string{"schwerin"}}, // never more than anonymous
	}
	// Words only the hidden articles contain.
	secrets := map[int][]string{
		fxZisterne:       {"zisternenförderung", "vertrauliche", "haushaltsmittel", "geheimtag"},
		fxQuartier:       {"quartiersspeicher", "netzwerkinterne", "speicher"},
		fxKernverwaltung: {"scanzentrum", "kernverwaltung", "hauptamt"},
		fxRadverkehr:     {"dauerzählstellen", "radverkehrskonzept", "radwege"},
	}
	queries := []Query{
		{}, {Limit: 100},
		{Text: "Zisternenförderung"}, {Text: "Zisternenfoerderung"}, {Text: "Zisternenfördrung"},
		{Text: "Starkregen", Limit: 100}, {Text: "Quartiersspeicher"}, {Text: "Speicher"}, {Text: "Solarstrom"}, {Text: "Solarstrm"},
		{Text: "Kernverwaltung"}, {Text: "Kernverwaltnug"}, {Text: "Haushaltsmittel"}, {Text: "Dauerzählstellen"},
		{Text: "Hafen", Limit: 100}, {Text: "Innenstadt"}, {Text: "eAkte"},
		{Cities: []string{"schwerin"}}, {Tags: []string{"geheimtag"}}, {Topics: []string{"energie"}},
		{Visibilities: []string{"city"}}, {Visibilities: []string{"network"}},
		{Statuses: []string{"idee"}}, {Sort: ByTitle, Limit: 100},
	}
	prefixes := []string{"Zistern", "Vertraul", "Netzwerk", "Quartier", "Radverk", "Elektron", "Kernverw"}
	for _, b := range backends {
		for rname, r := range readers {
			t.Run(b.name+"/"+rname, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				hidden := map[string]int{} // key → fixture index
				var forbidden []string     // secret words of hidden articles
				readable := 0
				for i, f := range fixtures {
					if r.CanRead(f.city, f.vis) {
						readable++
						continue
					}
					hidden[keys[i]] = i
					forbidden = append(forbidden, secrets[i]...)
				}
				leaks := func(where, text string) {
					for _, w := range docWords(text) {
						if slices.Contains(forbidden, w) {
							t.Errorf("%s reveals %q: %s", where, w, text)
						}
					}
				}
				for _, q := range queries {
					where := fmt.Sprintf("search %+v", q)
					res, err := b.s.Search(ctx, r, q)
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					for _, h := range res.Hits {
						if _, bad := hidden[h.City+"/"+h.Slug]; bad {
							t.Errorf("%s: hit %s/%s may not be read", where, h.City, h.Slug)
						}
						leaks(where+" snippet", string(h.Snippet))
					}
					if len(res.Hits) < q.Limit || q.Limit == 0 && len(res.Hits) < DefaultLimit {
						if res.Total != len(res.Hits) {
							t.Errorf("%s: total %d but %d readable hits", where, res.Total, len(res.Hits))
						}
					}
					if res.Total > readable {
						t.Errorf("%s: total %d exceeds the %d readable articles", where, res.Total, readable)
					}
					sum := 0
					for _, n := range res.Facets.City {
						sum += n
					}
					if sum != res.Total {
						t.Errorf("%s: city facet counts add up to %d, total is %d", where, sum, res.Total)
					}
					for facet, m := range map[string]map[string]int{"tags": res.Facets.Tags, "topics": res.Facets.Topics, "status": res.Facets.Status} {
						for k := range m {
							leaks(where+" facet "+facet, k)
						}
					}
					if r.CanRead("wismar", wiki.Network) == false && res.Facets.Topics["energie"] > 0 {
						t.Errorf("%s: topic facet counts the network-only energy article", where)
					}
					leaks(where+" did_you_mean", res.DidYouMean)
				}
				for _, p := range prefixes {
					sugg, err := b.s.Suggest(ctx, r, p, 10)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range sugg {
						if _, bad := hidden[s.City+"/"+s.Slug]; bad {
							t.Errorf("suggest %q offers %s/%s", p, s.City, s.Slug)
						}
						leaks("suggest "+p, s.Title)
					}
				}
				for i, key := range keys {
					city, slug, _ := strings.Cut(key, "/")
					sim, err := b.s.Similar(ctx, r, city, slug, 10)
					if _, bad := hidden[key]; bad {
						if !errors.Is(err, wiki.ErrNotFound) {
							t.Errorf("similar to hidden %s: err %v, want not found", key, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("similar to %s: %v", key, err)
					}
					for _, h := range sim {
						if _, bad := hidden[h.City+"/"+h.Slug]; bad {
							t.Errorf("similar to %s offers %s/%s", key, h.City, h.Slug)
						}
						if h.City == fixtures[i].city {
							t.Errorf("similar to %s offers %s/%s of the same city", key, h.City, h.Slug)
						}
						leaks("similar snippet", string(h.Snippet))
					}
				}
			})
		}
	}
}

// TestHiddenWordsAreSuggestedOnlyToTheirReaders: "did you mean" offers a
// word of a city-only article to that city's staff, and nobody else.
func TestHiddenWordsAreSuggestedOnlyToTheirReaders(t *testing.T) {
	t.Parallel()
	_, backends := withFixtures(t, fixtures)
	for _, b := range backends {
		for _, c := range []struct {
			r    wiki.Reader
			want string
		}{
			{wiki.Reader{Member: true, Cities: []string{"schwerin"}}, "Zisternenförderung"},
			{wiki.Reader{Member: true}, ""},
			{wiki.Reader{}, ""},
		} {
			res, err := b.s.Search(context.Background(), c.r, Query{Text: "Zisternenfördrung"})
			if err != nil {
				t.Fatal(err)
			}
			if res.DidYouMean != c.want {
				t.Errorf("%s, reader %+v: did_you_mean = %q, want %q", b.name, c.r, res.DidYouMean, c.want)
			}
		}
	}
}
