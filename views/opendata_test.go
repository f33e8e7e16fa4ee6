package views

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"

	"hansewiki/wiki"
)

// offline refuses every document a JSON-LD processor would fetch: the
// catalogue must expand from its inline context alone.
type offline struct{}

func (offline) LoadDocument(u string) (*ld.RemoteDocument, error) {
	return nil, errors.New("no network: tried to load " + u)
}

var openItems = append([]wiki.ImportItem{
	{Source: "c", Draft: wiki.Draft{City: "luebeck", Title: "Nur für Lübeck", Visibility: wiki.CityVis, Body: "Stadtintern",
		Experience: wiki.Experience{Status: "planung", Contact: "Geheimkontakt", Cost: "Geheimbetrag"}}},
	{Source: "d", Draft: wiki.Draft{City: "rostock", Title: "Starkregenkarte für alle Stadtteile", Visibility: wiki.Public,
		Topics: []string{"klimaresilienz"}, Tags: []string{"starkregen"},
		Body:       "Rostock hat eine Hinweiskarte für Starkregen veröffentlicht, die jedes Grundstück zeigt.\n\n## Vorgehen\n\nMit dem Wasserverband.\n",
		Experience: wiki.Experience{Status: "abgeschlossen", StartYear: 2021, Cost: "=HYPERLINK(\"x\")", Funding: "Land MV", Contact: "Umweltamt"}}},
}, sampleItems...)

// The open data carries every public article and nothing else: no network
// or city-only article, and none of their fields.
func TestOpenDataHoldsOnlyPublicArticles(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, openItems...)
	public := []string{"Quartiersbus in Lübeck", "Starkregenkarte für alle Stadtteile"}
	secret := []string{"Intern", "Geheim", "Nur für Lübeck", "Stadtintern", "Geheimkontakt", "Geheimbetrag"}
	for _, path := range []string{"/opendata/catalog.jsonld", "/opendata/experiences.csv", "/opendata/experiences.json"} {
		rec := do(t, s, "GET", path)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		for _, p := range public {
			if !strings.Contains(body, p) {
				t.Errorf("%s lacks the public article %q", path, p)
			}
		}
		for _, w := range secret {
			if strings.Contains(body, w) {
				t.Errorf("%s reveals %q of a network or city-only article", path, w)
			}
		}
	}

	// CSV: a header and one row per public article; a cell that a
	// spreadsheet would run as a formula is quoted.
	rows, err := csv.NewReader(strings.NewReader(do(t, s, "GET", "/opendata/experiences.csv").Body.String())).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "city" {
		t.Fatalf("CSV: %v, %d rows", err, len(rows))
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if strings.HasPrefix(cell, "=") {
				t.Errorf("CSV cell %q would run as a formula", cell)
			}
		}
	}
	var records []map[string]any
	if err := json.Unmarshal(do(t, s, "GET", "/opendata/experiences.json").Body.Bytes(), &records); err != nil || len(records) != 2 {
		t.Fatalf("JSON: %v, %d records", err, len(records))
	}
	if records[1]["status"] != "abgeschlossen" || records[1]["start_year"] != float64(2021) || records[1]["funding"] != "Land MV" {
		t.Errorf("JSON record lacks the experience fields: %v", records[1])
	}
}

// The catalogue is JSON-LD that expands without network access and has
// the mandatory DCAT-AP.de properties of catalogue, datasets and
// distributions.
func TestOpenDataCatalogIsDCATAPde(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, openItems...)
	rec := do(t, s, "GET", "/opendata/catalog.jsonld")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/ld+json") {
		t.Errorf("content type %q", ct)
	}
	var doc any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = offline{}
	expanded, err := ld.NewJsonLdProcessor().Expand(doc, opts)
	if err != nil {
		t.Fatalf("expanding the catalogue: %v", err)
	}
	if len(expanded) != 1 {
		t.Fatalf("expanded to %d nodes, want the catalogue", len(expanded))
	}
	const (
		dcat   = "http://www.w3.org/ns/dcat#"
		dct    = "http://purl.org/dc/terms/"
		foaf   = "http://xmlns.com/foaf/0.1/"
		dcatde = "http://dcat-ap.de/def/dcatde/"
	)
	node := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	values := func(n map[string]any, prop string) []any { l, _ := n[prop].([]any); return l }
	require := func(what string, n map[string]any, props ...string) {
		t.Helper()
		for _, p := range props {
			if len(values(n, p)) == 0 {
				t.Errorf("%s lacks %s", what, p)
			}
		}
	}
	catalog := node(expanded[0])
	if types := values(catalog, "@type"); len(types) != 1 || types[0] != dcat+"Catalog" {
		t.Fatalf("root type %v", types)
	}
	require("the catalogue", catalog, dct+"title", dct+"description", dct+"publisher", dcat+"dataset")
	require("the catalogue's publisher", node(values(catalog, dct+"publisher")[0]), foaf+"name")
	datasets := values(catalog, dcat+"dataset")
	if len(datasets) != 2 {
		t.Fatalf("%d datasets, want the 2 public articles", len(datasets))
	}
	for _, d := range datasets {
		ds := node(d)
		require("a dataset", ds, dct+"title", dct+"description", dcatde+"contributorID", dct+"publisher",
			dcat+"theme", dct+"issued", dct+"modified", dcat+"distribution", dcat+"landingPage")
		require("a dataset's publisher", node(values(ds, dct+"publisher")[0]), foaf+"name")
		for _, theme := range values(ds, dcat+"theme") {
			if id, _ := node(theme)["@id"].(string); !strings.HasPrefix(id, "http://publications.europa.eu/resource/authority/data-theme/") {
				t.Errorf("theme %q is not from the EU data themes", id)
			}
		}
		for _, dist := range values(ds, dcat+"distribution") {
			require("a distribution", node(dist), dcat+"accessURL", dct+"license", dct+"format")
		}
	}
	if !strings.Contains(rec.Body.String(), "http://dcat-ap.de/def/licenses/dl-by-de/2.0") {
		t.Error("the default licence is not the Datenlizenz Deutschland – Namensnennung 2.0")
	}
}

var ldScript = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

// Public article pages describe themselves in schema.org JSON-LD; pages of
// articles that are not public do not, and neither does the Markdown
// route reveal them.
func TestArticlePagesCarrySchemaOrgOnlyWhenPublic(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, openItems...)
	m := ldScript.FindStringSubmatch(do(t, s, "GET", "/c/rostock/starkregenkarte-fuer-alle-stadtteile").Body.String())
	if m == nil {
		t.Fatal("the public article page has no JSON-LD")
	}
	var article map[string]any
	if err := json.Unmarshal([]byte(m[1]), &article); err != nil {
		t.Fatalf("the page's JSON-LD is not JSON: %v\n%s", err, m[1])
	}
	if article["@type"] != "Article" || article["headline"] != "Starkregenkarte für alle Stadtteile" || article["license"] == nil {
		t.Errorf("JSON-LD: %v", article)
	}
	token := account(t, s, "lena", "author", "luebeck")
	for _, path := range []string{"/c/luebeck/intern", "/c/luebeck/nur-fuer-luebeck"} {
		rec := send(s, "GET", path, token, "", "")
		if rec.Code != 200 || ldScript.MatchString(rec.Body.String()) {
			t.Errorf("%s (%d) must not describe itself as open data", path, rec.Code)
		}
		if rec := do(t, s, "GET", path+".md"); rec.Code != 404 {
			t.Errorf("%s.md anonymously: %d, want 404", path, rec.Code)
		}
	}
	if rec := do(t, s, "GET", "/c/rostock/starkregenkarte-fuer-alle-stadtteile.md"); rec.Code != 200 ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/markdown") || !strings.Contains(rec.Body.String(), "Hinweiskarte") {
		t.Errorf("Markdown of the public article: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
