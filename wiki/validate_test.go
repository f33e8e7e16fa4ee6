package wiki

import (
	"errors"
	"strings"
	"testing"
)

func TestDraftNormalize(t *testing.T) {
	ok := func(d Draft) Draft { d.City = "wismar"; return d }
	tests := []struct {
		name  string
		draft Draft
		field string // "" means valid
	}{
		{"valid", ok(Draft{Title: "Straßenbäume", Body: "x"}), ""},
		{"empty title", ok(Draft{Title: "   "}), "title"},
		{"long title", ok(Draft{Title: strings.Repeat("ä", 201)}), "title"},
		{"title of 200 umlauts", ok(Draft{Title: strings.Repeat("ä", 200)}), ""},
		{"title without letters", ok(Draft{Title: "!!!"}), "title"},
		{"multi-line title", ok(Draft{Title: "a\nb"}), "title"},
		{"invalid utf-8", ok(Draft{Title: "a\xffb"}), "title"},
		{"body too large", ok(Draft{Title: "a", Body: strings.Repeat("x", MaxBodyBytes+1)}), "body"},
		{"body at the limit", ok(Draft{Title: "a", Body: strings.Repeat("x", MaxBodyBytes)}), ""},
		{"bad visibility", ok(Draft{Title: "a", Visibility: "secret"}), "visibility"},
		{"bad status", ok(Draft{Title: "a", Experience: Experience{Status: "fertig"}}), "status"},
		{"bad year", ok(Draft{Title: "a", Experience: Experience{StartYear: 30000}}), "start_year"},
		{"bad cost band", ok(Draft{Title: "a", Experience: Experience{CostBand: "teuer"}}), "cost_band"},
		{"cost band", ok(Draft{Title: "a", Experience: Experience{CostBand: "ueber-1m"}}), ""},
		{"bad slug", ok(Draft{Title: "a", Slug: "Mit Leerzeichen"}), "slug"},
		{"too many tags", ok(Draft{Title: "a", Tags: strings.Fields(strings.Repeat("x ", 31) + "a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5")}), "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.draft
			err := d.Normalize()
			var inv *InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field):
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			case tt.field != "" && !errors.Is(err, ErrInvalid):
				t.Fatalf("err %v is not ErrInvalid", err)
			}
		})
	}
	d := Draft{City: "wismar", Title: "  Klimaanpassung in Wismar ", Tags: []string{" Starkregen", "starkregen", "Grün  Dach"}, Topics: []string{"Energie"}}
	if err := d.Normalize(); err != nil {
		t.Fatal(err)
	}
	if d.Slug != "klimaanpassung-in-wismar" || d.Visibility != Network || strings.Join(d.Tags, "|") != "starkregen|grün dach" || d.Topics[0] != "energie" {
		t.Fatalf("normalized draft = %+v", d)
	}
}

func TestArticleFileRoundTrip(t *testing.T) {
	src := "---\ntitle: 'Starkregen: Vorsorge'\ntopics: [klimaresilienz, wasser-umwelt]\ntags: [starkregen, \"grün dach\"]\nvisibility: public\nstatus: umsetzung\nstart_year: 2022\ncost: 50.000–100.000 €\ncost_band: 50k-250k\nfunding: KfW 432\nadopted_from: luebeck/gruendaecher\n---\n# Überblick\n\nText mit --- Strichen.\n"
	it, err := ParseArticleFile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := it.Draft
	if d.Title != "Starkregen: Vorsorge" || d.StartYear != 2022 || d.CostBand != "50k-250k" || d.Funding != "KfW 432" || d.AdoptedFrom != "luebeck/gruendaecher" || d.Body != "# Überblick\n\nText mit --- Strichen.\n" {
		t.Fatalf("parsed %+v", d)
	}
	rev := &Revision{Title: d.Title, Body: d.Body, Topics: d.Topics, Tags: d.Tags, Visibility: d.Visibility, Experience: d.Experience}
	out, err := FormatArticleFile(rev, true)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseArticleFile(out)
	if err != nil {
		t.Fatal(err)
	}
	again := parsed.Draft
	if !parsed.Archived || it.Archived {
		t.Errorf("archived flag: written %v, read back %v", true, parsed.Archived)
	}
	again.Summary, d.Summary = "", ""
	if again.Title != d.Title || again.Body != d.Body || strings.Join(again.Tags, ",") != strings.Join(d.Tags, ",") || again.Experience != d.Experience {
		t.Fatalf("round trip changed the article:\n%s", out)
	}
	out2, _ := FormatArticleFile(&Revision{Title: again.Title, Body: again.Body, Topics: again.Topics, Tags: again.Tags, Visibility: again.Visibility, Experience: again.Experience}, parsed.Archived)
	if string(out) != string(out2) {
		t.Fatalf("formatting is not stable:\n%s\n---\n%s", out, out2)
	}

	for name, bad := range map[string]string{
		"no front matter": "# Titel\n",
		"unclosed":        "---\ntitle: x\n",
		"unknown field":   "---\ntitle: x\ncolour: red\n---\n",
		"no title":        "---\ntopics: [energie]\n---\nText",
		"not utf-8":       "---\ntitle: x\n---\n\xff\xfe",
	} {
		if _, err := ParseArticleFile([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestVisibilityNarrower(t *testing.T) {
	for _, c := range []struct {
		was, is Visibility
		want    bool
	}{
		{Public, Network, true}, {Public, CityVis, true}, {Network, CityVis, true},
		{Network, Public, false}, {CityVis, Network, false}, {CityVis, Public, false},
		{Network, Network, false},
	} {
		if got := c.is.Narrower(c.was); got != c.want {
			t.Errorf("%s after %s: narrower = %v", c.is, c.was, got)
		}
	}
}

// Titles that would take the address of a city page (/c/{city}/new, the
// freshness page) get another slug.
func TestReservedSlugs(t *testing.T) {
	for title, want := range map[string]string{"New": "new-article", "Freshness": "freshness-article", "Freshness heute": "freshness-heute"} {
		d := Draft{City: "wismar", Title: title, Body: "x"}
		if err := d.Normalize(); err != nil || d.Slug != want {
			t.Errorf("%q: slug %q (%v), want %q", title, d.Slug, err, want)
		}
	}
}
