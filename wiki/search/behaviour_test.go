package search

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"hansewiki/wiki"
)

// Fixture keys by index, as importFixtures returns them.
const (
	fxPegel = iota
	fxLuft
	fxBauamt
	fxKernverwaltung
	fxRufbus
	fxAltstadt
	fxGruendach
	fxRadverkehr
	fxFormular
	fxZisterne // city-only, Schwerin
	fxQuartier // network, Wismar
	fxStation
	fxCount
)

var (
	member       = wiki.Reader{Member: true}
	networkAdmin = wiki.Reader{Member: true, Cities: []string{wiki.AllCities}}
)

// TestSearchBehaviour runs the same cases against both backends: what a
// member typing into the search box should find.
func TestSearchBehaviour(t *testing.T) {
	t.Parallel()
	keys, backends := withFixtures(t, fixtures)
	k := func(i ...int) []string {
		out := make([]string, len(i))
		for j, n := range i {
			out[j] = keys[n]
		}
		return out
	}
	cases := []struct {
		name   string
		reader *wiki.Reader // member when nil
		q      Query
		// want: these hits in any order (and no others); ordered: exactly
		// this order.
		want, ordered []string
		total         int // when want and ordered are both nil
		check         func(t *testing.T, res *Result)
	}{
		{name: "exact word", q: Query{Text: "Rufbus"}, want: k(fxRufbus)},
		{name: "inflection: plural finds singular", q: Query{Text: "Sensoren"}, want: k(fxPegel, fxLuft)},
		{name: "inflection: singular finds plural", q: Query{Text: "Sensor"}, want: k(fxPegel, fxLuft)},
		{name: "inflection inside the query", q: Query{Text: "Sensoren Feinstaub"}, want: k(fxLuft)},
		{name: "compound: head word finds the compound", q: Query{Text: "Kataster"}, want: k(fxGruendach)},
		{name: "one typo", q: Query{Text: "Starkrgen"}, want: k(fxPegel)},
		{name: "two typos", q: Query{Text: "Kernvewaltng"}, want: k(fxKernverwaltung)},
		{name: "synonym: eAkte finds E-Akte and elektronische Akte", q: Query{Text: "eAkte"}, want: k(fxBauamt, fxKernverwaltung, fxFormular)},
		{name: "synonym: ÖPNV finds öffentlicher Nahverkehr", q: Query{Text: "ÖPNV"}, want: k(fxRufbus)},
		{name: "synonym: Klimaanpassung finds Klimaresilienz", q: Query{Text: "Klimaanpassung"}, want: k(fxAltstadt, fxGruendach)},
		{name: "synonym: Fahrrad finds Radverkehr", q: Query{Text: "Radverkehr"}, want: k(fxRadverkehr)},
		{name: "umlaut typed as ue", q: Query{Text: "Buergerinnen"}, want: k(fxBauamt)},
		{name: "umlaut typed as ue in a compound", q: Query{Text: "Gruendachkataster"}, want: k(fxGruendach)},
		{name: "umlaut typed as ae", q: Query{Text: "Luftqualitaet"}, want: k(fxLuft)},
		{name: "stop words are ignored", q: Query{Text: "die Warnow und der Wind"}, want: k(fxPegel)},
		{name: "all words must match", q: Query{Text: "Sensor Rufbus"}, want: []string{}},
		{name: "filter by city", q: Query{Text: "Sensor", Cities: []string{"wismar"}}, want: k(fxLuft)},
		{name: "filter by topic", q: Query{Topics: []string{"e-akte"}}, want: k(fxBauamt, fxKernverwaltung, fxFormular)},
		{name: "filter by tag", q: Query{Tags: []string{"sensorik"}}, want: k(fxPegel, fxLuft)},
		{name: "filter by status", q: Query{Statuses: []string{"abgeschlossen"}}, want: k(fxBauamt, fxGruendach)},
		{name: "filters combine", q: Query{Topics: []string{"e-akte"}, Statuses: []string{"umsetzung"}, Cities: []string{"luebeck"}}, want: k(fxFormular)},
		{name: "facets count all matches", q: Query{Topics: []string{"e-akte"}, Limit: 1}, total: 3, check: func(t *testing.T, res *Result) {
			if len(res.Hits) != 1 {
				t.Errorf("hits = %d, want a page of 1", len(res.Hits))
			}
			want := Facets{City: map[string]int{"luebeck": 2, "schwerin": 1}, Topics: map[string]int{"e-akte": 3},
				Tags:      map[string]int{"bauantrag": 1, "ozg": 1, "dms": 1, "sicherheit": 1},
				Status:    map[string]int{"abgeschlossen": 1, "umsetzung": 2},
				StartYear: map[string]int{"2020": 2, "2022": 1}, CostBand: map[string]int{"250k-1m": 2, "unter-10k": 1},
				Funding: map[string]int{"EFRE": 1}}
			if !facetsEqual(res.Facets, want) {
				t.Errorf("facets = %v, want %v", res.Facets, want)
			}
		}},
		// Experience fields (issue 13): filters and facets.
		{name: "filter by start year", q: Query{StartYears: []int{2020, 2021}}, want: k(fxPegel, fxBauamt, fxKernverwaltung, fxGruendach)},
		{name: "filter by cost band", q: Query{CostBands: []string{"250k-1m", "ueber-1m"}}, want: k(fxBauamt, fxKernverwaltung, fxRadverkehr)},
		{name: "filter by funding", q: Query{Fundings: []string{"KfW 432"}}, want: k(fxGruendach, fxQuartier)},
		{name: "experience filters combine with text and each other", q: Query{Text: "Innenstadt", Fundings: []string{"Modellprojekte Smart Cities"}, StartYears: []int{2024}},
			want: k(fxRadverkehr)},
		{name: "a filter value no article has finds nothing", q: Query{CostBands: []string{"ueber-1m"}, Cities: []string{"wismar"}}, want: []string{}},
		{name: "experience facets count all matches", q: Query{Fundings: []string{"Modellprojekte Smart Cities"}, Limit: 1}, total: 3, check: func(t *testing.T, res *Result) {
			want := Facets{City: map[string]int{"rostock": 2, "wismar": 1},
				Topics:    map[string]int{"wasser-umwelt": 1, "stadtdaten": 1, "mobilitaet": 2},
				Tags:      map[string]int{"sensorik": 1, "hochwasser": 1, "rufbus": 1, "radwege": 1},
				Status:    map[string]int{"umsetzung": 2, "planung": 1},
				StartYear: map[string]int{"2021": 1, "2022": 1, "2024": 1},
				CostBand:  map[string]int{"50k-250k": 2, "ueber-1m": 1},
				Funding:   map[string]int{"Modellprojekte Smart Cities": 3}}
			if !facetsEqual(res.Facets, want) {
				t.Errorf("facets = %v, want %v", res.Facets, want)
			}
		}},
		// Facet counts are of what the reader may read: the city-only
		// article of Schwerin (2019, "Schweriner Zisternenfonds") counts
		// for its admins only; articles without a value count nowhere.
		{name: "experience facets of everything a member may read", q: Query{Limit: 1}, total: 11, check: func(t *testing.T, res *Result) {
			want := Facets{StartYear: map[string]int{"2020": 2, "2021": 2, "2022": 2, "2023": 2, "2024": 1},
				CostBand: map[string]int{"unter-10k": 2, "10k-50k": 1, "50k-250k": 3, "250k-1m": 2, "ueber-1m": 1},
				Funding:  map[string]int{"Modellprojekte Smart Cities": 3, "KfW 432": 2, "EFRE": 1}}
			if !experienceFacetsEqual(res.Facets, want) {
				t.Errorf("facets = %v, want %v", res.Facets, want)
			}
		}},
		{name: "experience facets of a city admin", reader: &wiki.Reader{Member: true, Cities: []string{"schwerin"}}, q: Query{Limit: 1}, total: 12, check: func(t *testing.T, res *Result) {
			want := Facets{StartYear: map[string]int{"2019": 1, "2020": 2, "2021": 2, "2022": 2, "2023": 2, "2024": 1},
				CostBand: map[string]int{"unter-10k": 2, "10k-50k": 2, "50k-250k": 3, "250k-1m": 2, "ueber-1m": 1},
				Funding:  map[string]int{"Modellprojekte Smart Cities": 3, "KfW 432": 2, "EFRE": 1, "Schweriner Zisternenfonds": 1}}
			if !experienceFacetsEqual(res.Facets, want) {
				t.Errorf("facets = %v, want %v", res.Facets, want)
			}
		}},
		{name: "experience facets of an anonymous reader", reader: &wiki.Reader{}, q: Query{Limit: 1}, total: 8, check: func(t *testing.T, res *Result) {
			want := Facets{StartYear: map[string]int{"2020": 1, "2021": 2, "2022": 2, "2023": 1},
				CostBand: map[string]int{"unter-10k": 2, "10k-50k": 1, "50k-250k": 2, "250k-1m": 1},
				Funding:  map[string]int{"Modellprojekte Smart Cities": 2, "KfW 432": 1}}
			if !experienceFacetsEqual(res.Facets, want) {
				t.Errorf("facets = %v, want %v", res.Facets, want)
			}
		}},
		{name: "newest first", q: Query{Tags: []string{"sensorik"}, Sort: ByUpdated}, ordered: k(fxPegel, fxLuft)},
		{name: "sort by updated_at with text", q: Query{Text: "Innenstadt", Sort: ByUpdated}, ordered: k(fxGruendach, fxRadverkehr)},
		{name: "sort by title ignores case and umlauts", q: Query{Topics: []string{"klimaresilienz", "mobilitaet"}, Sort: ByTitle},
			ordered: k(fxGruendach, fxAltstadt, fxRadverkehr, fxRufbus)},
		{name: "page 1", q: Query{Topics: []string{"klimaresilienz", "mobilitaet"}, Sort: ByTitle, Limit: 2}, ordered: k(fxGruendach, fxAltstadt)},
		{name: "page 2", q: Query{Topics: []string{"klimaresilienz", "mobilitaet"}, Sort: ByTitle, Limit: 2, Offset: 2}, ordered: k(fxRadverkehr, fxRufbus)},
		{name: "past the last page", q: Query{Topics: []string{"mobilitaet"}, Limit: 2, Offset: 10}, ordered: []string{}},
		{name: "title ranks above body", reader: &networkAdmin, q: Query{Text: "Starkregen"}, ordered: k(fxZisterne, fxPegel)},
		{name: "highlighted snippet", q: Query{Text: "Feinstaub"}, want: k(fxLuft), check: func(t *testing.T, res *Result) {
			if s := string(res.Hits[0].Snippet); !strings.Contains(s, "<mark>Feinstaub</mark>") {
				t.Errorf("snippet %q does not mark the word", s)
			}
		}},
		{name: "article HTML is escaped in snippets", q: Query{Text: "script maskiert"}, want: k(fxFormular), check: func(t *testing.T, res *Result) {
			s := string(res.Hits[0].Snippet)
			if !strings.Contains(s, "&lt;") || !strings.Contains(s, "&lt;b&gt;fett&lt;/b&gt;") {
				t.Errorf("snippet %q does not show the article's markup as text", s)
			}
			rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
			if strings.ContainsAny(rest, "<>") {
				t.Errorf("snippet %q has markup besides <mark>", s)
			}
			if res.Hits[0].Title != "Formularprüfung mit <b>Markup</b>" {
				t.Errorf("title = %q; hits carry the title as plain text for the page to escape", res.Hits[0].Title)
			}
		}},
		{name: "did you mean", q: Query{Text: "Starkrgen"}, want: k(fxPegel), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Starkregen" {
				t.Errorf("did_you_mean = %q, want Starkregen", res.DidYouMean)
			}
		}},
		// German as the network writes it: a typo of a word that only the
		// synonym list, a topic name or a city name has is corrected, and
		// corrections are spelt as written.
		{name: "did you mean: Klimaanpasung", q: Query{Text: "Klimaanpasung"}, want: k(fxAltstadt, fxGruendach), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Klimaanpassung" {
				t.Errorf("did_you_mean = %q, want Klimaanpassung", res.DidYouMean)
			}
		}},
		{name: "did you mean: Klimaresilenz", q: Query{Text: "Klimaresilenz"}, want: k(fxAltstadt, fxGruendach), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Klimaresilienz" {
				t.Errorf("did_you_mean = %q, want Klimaresilienz", res.DidYouMean)
			}
		}},
		{name: "did you mean: Stadtdatn", q: Query{Text: "Stadtdatn"}, want: k(fxPegel, fxLuft), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Stadtdaten" {
				t.Errorf("did_you_mean = %q, want Stadtdaten", res.DidYouMean)
			}
		}},
		{name: "did you mean: Neubrandenbrug", q: Query{Text: "Neubrandenbrug"}, want: k(fxGruendach), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Neubrandenburg" {
				t.Errorf("did_you_mean = %q, want Neubrandenburg", res.DidYouMean)
			}
		}},
		{name: "did you mean: mobilitätstation", q: Query{Text: "mobilitätstation"}, want: k(fxStation), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Mobilitätsstation" {
				t.Errorf("did_you_mean = %q, want Mobilitätsstation", res.DidYouMean)
			}
		}},
		{name: "did you mean: Lorawam", q: Query{Text: "Lorawam"}, want: k(fxPegel), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "LoRaWAN" {
				t.Errorf("did_you_mean = %q, want LoRaWAN", res.DidYouMean)
			}
		}},
		{name: "did you mean: a synonym typo among correct words", q: Query{Text: "Klimaanpasung Altstadt"}, want: k(fxAltstadt), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "Klimaanpassung Altstadt" {
				t.Errorf("did_you_mean = %q, want Klimaanpassung Altstadt", res.DidYouMean)
			}
		}},
		{name: "no did you mean for a synonym typo of a hidden article", reader: &wiki.Reader{}, q: Query{Text: "Photovoltaic"}, want: []string{}, check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "" {
				t.Errorf("did_you_mean = %q: only a network article says Solarstrom", res.DidYouMean)
			}
		}},
		{name: "no did you mean for correct words", q: Query{Text: "Starkregen"}, want: k(fxPegel), check: func(t *testing.T, res *Result) {
			if res.DidYouMean != "" {
				t.Errorf("did_you_mean = %q for a correct query", res.DidYouMean)
			}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := member
					if c.reader != nil {
						r = *c.reader
					}
					res, err := b.s.Search(context.Background(), r, c.q)
					if err != nil {
						t.Fatal(err)
					}
					got := hitKeys(res.Hits)
					switch {
					case c.ordered != nil:
						if !slices.Equal(got, c.ordered) {
							t.Errorf("hits = %v, want in this order %v", got, c.ordered)
						}
					case c.want != nil:
						if !sameSet(got, c.want) {
							t.Errorf("hits = %v, want %v", got, c.want)
						}
						if res.Total != len(c.want) {
							t.Errorf("total = %d, want %d", res.Total, len(c.want))
						}
					case c.total != 0:
						if res.Total != c.total {
							t.Errorf("total = %d, want %d", res.Total, c.total)
						}
					}
					if c.check != nil && (len(res.Hits) > 0 || c.want == nil) {
						c.check(t, res)
					}
				})
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func facetsEqual(a, b Facets) bool {
	eq := func(x, y map[string]int) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if y[k] != v {
				return false
			}
		}
		return true
	}
	return eq(a.City, b.City) && eq(a.Topics, b.Topics) && eq(a.Tags, b.Tags) && eq(a.Status, b.Status) &&
		experienceFacetsEqual(a, b)
}

func experienceFacetsEqual(a, b Facets) bool {
	eq := func(x, y map[string]int) bool { return maps.Equal(x, y) || len(x) == 0 && len(y) == 0 }
	return eq(a.StartYear, b.StartYear) && eq(a.CostBand, b.CostBand) && eq(a.Funding, b.Funding)
}
