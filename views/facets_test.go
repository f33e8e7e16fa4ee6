package views

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hansewiki/wiki"
	"hansewiki/wiki/search"
)

var facetItems = []wiki.ImportItem{
	{Source: "1", Draft: wiki.Draft{City: "wismar", Title: "Gründächer im Hafen", Visibility: wiki.Public, Topics: []string{"klimaresilienz"},
		Body: "Gründächer kühlen.", Experience: wiki.Experience{Status: "planung", StartYear: 2024, Cost: "80.000 €", CostBand: "50k-250k", Funding: "KfW 432"}}},
	{Source: "2", Draft: wiki.Draft{City: "rostock", Title: "Starkregen-Hinweiskarte", Visibility: wiki.Public, Topics: []string{"klimaresilienz"},
		Body: "Die Karte zeigt Gründächer und Senken.", Experience: wiki.Experience{Status: "abgeschlossen", StartYear: 2021, CostBand: "10k-50k", Funding: "Land MV"}}},
	{Source: "3", Draft: wiki.Draft{City: "luebeck", Title: "Hitzeaktionsplan", Visibility: wiki.Network, Topics: []string{"klimaresilienz"},
		Body: "Gründächer und Trinkbrunnen.", Experience: wiki.Experience{Status: "umsetzung", StartYear: 2021, CostBand: "50k-250k", Funding: "KfW 432"}}},
	{Source: "4", Draft: wiki.Draft{City: "luebeck", Title: "Stadtinterne Pegelmessung", Visibility: wiki.CityVis, Topics: []string{"klimaresilienz"},
		Body: "Gründächer intern.", Experience: wiki.Experience{Status: "idee", StartYear: 2019, CostBand: "ueber-1m", Funding: "Lübecker Sonderfonds"}}},
}

type searchAnswer struct {
	Total  int                       `json:"total"`
	Hits   []struct{ Title string }  `json:"hits"`
	Facets map[string]map[string]int `json:"facets"`
}

func searchAPI(t *testing.T, s *Server, token, query string) searchAnswer {
	t.Helper()
	rec := send(s, "GET", "/api/v1/search?"+query, token, "", "")
	if rec.Code != 200 {
		t.Fatalf("search %s: %d %s", query, rec.Code, rec.Body)
	}
	var a searchAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// The search API filters by the experience fields and counts them, for
// what the caller may read: the city-only report of Lübeck and its
// "Lübecker Sonderfonds" count for Lübeck's members only.
func TestSearchAPIExperienceFiltersAndFacets(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, facetItems...)
	refreshSearch(t, s)
	member := account(t, s, "mia", "author", "rostock")
	luebeck := account(t, s, "lutz", "author", "luebeck")

	all := searchAPI(t, s, member, "q=Gründächer")
	for _, f := range []string{"city", "topics", "tags", "status", "start_year", "cost_band", "funding"} {
		if _, ok := all.Facets[f]; !ok {
			t.Errorf("facets lack %q: %v", f, all.Facets)
		}
	}
	want := map[string]map[string]int{
		"status":     {"planung": 1, "abgeschlossen": 1, "umsetzung": 1},
		"start_year": {"2024": 1, "2021": 2},
		"cost_band":  {"50k-250k": 2, "10k-50k": 1},
		"funding":    {"KfW 432": 2, "Land MV": 1},
	}
	for f, w := range want {
		if !maps.Equal(all.Facets[f], w) {
			t.Errorf("member: facet %s = %v, want %v", f, all.Facets[f], w)
		}
	}
	if got := searchAPI(t, s, luebeck, "q=Gründächer"); got.Total != 4 || got.Facets["funding"]["Lübecker Sonderfonds"] != 1 || got.Facets["start_year"]["2019"] != 1 {
		t.Errorf("Lübeck's author: total %d, facets %v", got.Total, got.Facets)
	}
	if got := searchAPI(t, s, "", "q=Gründächer"); got.Total != 2 || !maps.Equal(got.Facets["funding"], map[string]int{"KfW 432": 1, "Land MV": 1}) {
		t.Errorf("anonymous: total %d, funding facet %v", got.Total, got.Facets["funding"])
	}

	for query, titles := range map[string][]string{
		"cost_band=50k-250k":                   {"Gründächer im Hafen", "Hitzeaktionsplan"},
		"funding=KfW+432&start_year=2021":      {"Hitzeaktionsplan"},
		"start_year=2021&start_year=2024":      {"Gründächer im Hafen", "Starkregen-Hinweiskarte", "Hitzeaktionsplan"},
		"cost_band=10k-50k&cost_band=ueber-1m": {"Starkregen-Hinweiskarte"},
		"funding=L%C3%BCbecker+Sonderfonds":    {},
	} {
		got := searchAPI(t, s, member, query)
		var names []string
		for _, h := range got.Hits {
			names = append(names, h.Title)
		}
		if !sameTitles(names, titles) || got.Total != len(titles) {
			t.Errorf("%s: %v (total %d), want %v", query, names, got.Total, titles)
		}
	}
	for _, bad := range []string{"cost_band=teuer", "start_year=abc", "start_year=1800", "start_year=2021&cost_band=50k"} {
		if rec := send(s, "GET", "/api/v1/search?"+bad, member, "", ""); rec.Code != 422 {
			t.Errorf("%s: %d, want 422", bad, rec.Code)
		}
	}

	// The search page offers the same facets as filters, labelled for
	// people, with counts, and the chosen ones as removable chips.
	page := getFile(s, member, "/search?q=Gr%C3%BCnd%C3%A4cher&cost_band=50k-250k").Body.String()
	for _, w := range []string{`<h3 id="facet-cost_band">Kostenspanne</h3>`, `<h3 id="facet-start_year">Startjahr</h3>`,
		`<h3 id="facet-funding">Förderprogramm</h3>`, "50.000 bis 250.000 €", "Filter (1)"} {
		if !strings.Contains(page, w) {
			t.Errorf("search page lacks %q", w)
		}
	}
	if regexp.MustCompile(`Lübecker Sonderfonds|10\.000 bis 50\.000 €</span> <span class="count">`).MatchString(page) {
		t.Error("the search page shows a facet value outside the reader's matches")
	}
	if rec := getFile(s, member, "/search?q=x&cost_band=teuer"); rec.Code != 422 {
		t.Errorf("search page with an unknown cost band: %d", rec.Code)
	}
}

// refreshSearch writes the search rows of everything imported, as the
// worker of a running server does right after commit.
func refreshSearch(t *testing.T, s *Server) {
	t.Helper()
	svc, err := search.Open(context.Background(), search.Config{Store: s.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Worker().Refresh(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func sameTitles(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// Network admins keep the list of funding programmes; nobody else may.
// Every change is audited.
func TestFundingProgrammesAdmin(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, author := apiUser(t, s, "autorin", "author", "luebeck")
	_, cityAdmin := apiUser(t, s, "stadtadmin", "admin", "luebeck")
	_, admin := apiUser(t, s, "koordination", "admin", "*")

	for who, token := range map[string]string{"author": author, "city admin": cityAdmin, "anonymous": ""} {
		want := 403
		if token == "" {
			want = 0 // a sign-in page or redirect, never the list
		}
		if code := getFile(s, token, "/admin/funding").Code; code == 200 || want != 0 && code != want {
			t.Errorf("%s opens the funding list: %d", who, code)
		}
		if code := postForm(s, token, "/admin/funding", url.Values{"name": {"Fremdprogramm"}}).Code; code == 303 || want != 0 && code != want {
			t.Errorf("%s adds a programme: %d", who, code)
		}
	}
	if rec := postForm(s, admin, "/admin/funding", url.Values{"name": {"  Modellprojekte   Smart Cities "}}); rec.Code != 303 {
		t.Fatalf("network admin adds a programme: %d %s", rec.Code, rec.Body)
	}
	if rec := postForm(s, admin, "/admin/funding", url.Values{"name": {"KfW 432"}}); rec.Code != 303 {
		t.Fatalf("network admin adds a second programme: %d", rec.Code)
	}
	if rec := postForm(s, admin, "/admin/funding", url.Values{"name": {"kfw 432"}}); rec.Code != 422 {
		t.Errorf("the same programme in other case: %d, want 422", rec.Code)
	}
	if rec := postForm(s, admin, "/admin/funding", url.Values{"name": {" "}}); rec.Code != 422 ||
		!strings.Contains(rec.Body.String(), "Der Name des Programms muss 1 bis 200 Zeichen haben.") {
		t.Errorf("an empty name: %d", rec.Code)
	}
	list, err := s.store.FundingProgrammes(context.Background(), true)
	if err != nil || len(list) != 2 || list[1].Name != "Modellprojekte Smart Cities" {
		t.Fatalf("programmes = %+v (%v)", list, err)
	}
	kfw := list[0]
	for who, token := range map[string]string{"author": author, "city admin": cityAdmin} {
		if code := postForm(s, token, "/admin/funding/"+strconv.FormatInt(kfw.ID, 10), url.Values{"name": {"Umbenannt"}, "retired": {"1"}}).Code; code != 403 {
			t.Errorf("%s renames a programme: %d", who, code)
		}
	}
	if rec := postForm(s, admin, "/admin/funding/"+strconv.FormatInt(kfw.ID, 10), url.Values{"name": {"KfW 432 Energetische Stadtsanierung"}, "retired": {"1"}}); rec.Code != 303 {
		t.Fatalf("network admin renames and retires: %d %s", rec.Code, rec.Body)
	}
	if code := postForm(s, admin, "/admin/funding/999999", url.Values{"name": {"x"}}).Code; code != 422 && code != 404 {
		t.Errorf("an unknown programme: %d", code)
	}
	page := getFile(s, admin, "/admin/funding").Body.String()
	if !strings.Contains(page, `value="KfW 432 Energetische Stadtsanierung"`) || !strings.Contains(page, "checked") {
		t.Errorf("the admin page does not show the renamed, retired programme:\n%s", page)
	}
	// The editor offers the programmes in use, not the retired one.
	editor := getFile(s, author, "/c/luebeck/new").Body.String()
	if !strings.Contains(editor, `<option value="Modellprojekte Smart Cities">`) || strings.Contains(editor, "KfW 432") {
		t.Errorf("the editor's funding list is wrong")
	}
	var actions []string
	rows, _ := s.store.Pool().Query(context.Background(), `SELECT action || ' ' || actor || ' ' || (detail->>'name') FROM audit_events WHERE object LIKE 'funding:%' ORDER BY id`)
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	rows.Close()
	wantAudit := []string{"funding.add koordination Modellprojekte Smart Cities", "funding.add koordination KfW 432",
		"funding.update koordination KfW 432 Energetische Stadtsanierung"}
	if strings.Join(actions, "|") != strings.Join(wantAudit, "|") {
		t.Errorf("audit = %q, want %q", actions, wantAudit)
	}
}

// The editor carries the cost band and funding into the proposal and back,
// a kept programme typed in another case is stored as the list spells it,
// and a cost band outside the list is refused in German.
func TestEditorCarriesCostBandAndFunding(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, facetItems...)
	_, author := apiUser(t, s, "autorin", "author", "luebeck")
	if _, err := s.store.AddFundingProgramme(context.Background(), "KfW 432", "test"); err != nil {
		t.Fatal(err)
	}
	editor := getFile(s, author, "/c/luebeck/new").Body.String()
	for _, w := range []string{`<label for="cost_band">Kostenspanne</label>`, `<option value="unter-10k">unter 10.000 €</option>`,
		`<option value="ueber-1m">über 1 Mio. €</option>`, `list="funding-programmes"`, `<option value="KfW 432">`} {
		if !strings.Contains(editor, w) {
			t.Errorf("the editor lacks %q", w)
		}
	}
	post := func(band, funding string) *httptest.ResponseRecorder {
		return send(s, "POST", "/c/luebeck/new", author, "application/x-www-form-urlencoded",
			url.Values{"title": {"Dachbegrünung Lübeck"}, "body": {"Text"}, "visibility": {"network"}, "op": {"save"},
				"cost": {"rund 30.000 €"}, "cost_band": {band}, "funding": {funding}, "start_year": {"2025"}}.Encode())
	}
	if rec := post("teuer", ""); rec.Code != 422 || !strings.Contains(rec.Body.String(), "Bitte wählen Sie eine der Kostenspannen.") {
		t.Errorf("an unknown cost band: %d", rec.Code)
	}
	rec := post("10k-50k", "kfw 432")
	if rec.Code != 303 {
		t.Fatalf("saving: %d %s", rec.Code, rec.Body)
	}
	change := rec.Header().Get("Location")
	page := getFile(s, author, change+"/edit").Body.String()
	if !strings.Contains(page, `<option value="10k-50k" selected>`) || !strings.Contains(page, `name="funding" value="KfW 432"`) {
		t.Errorf("the proposal's editor does not show the cost band and the programme as kept")
	}

	// The API takes and answers both fields.
	rec = send(s, "POST", "/api/v1/changes", author, "application/json",
		`{"city":"luebeck","title":"Per API","body":"x","visibility":"network","cost_band":"ueber-1m","funding":"Eigenmittel"}`)
	if rec.Code != 201 {
		t.Fatalf("API change: %d %s", rec.Code, rec.Body)
	}
	if rec := send(s, "POST", "/api/v1/changes", author, "application/json", `{"city":"luebeck","title":"Falsch","body":"x","cost_band":"1m"}`); rec.Code != 422 {
		t.Errorf("API change with an unknown cost band: %d", rec.Code)
	}
	var art map[string]any
	rec = send(s, "GET", "/api/v1/articles/wismar/gruendaecher-im-hafen", "", "", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &art); err != nil || art["cost_band"] != "50k-250k" || art["funding"] != "KfW 432" || art["cost"] != "80.000 €" {
		t.Errorf("article JSON: %d %v", rec.Code, art)
	}
	// The article page and the comparison show the band for people.
	if page := do(t, s, "GET", "/c/wismar/gruendaecher-im-hafen").Body.String(); !strings.Contains(page, "50.000 bis 250.000 €") {
		t.Error("the article page does not show the cost band")
	}
	if page := do(t, s, "GET", "/topics/klimaresilienz?sort=cost_band").Body.String(); !strings.Contains(page, `aria-sort="ascending"`) ||
		!strings.Contains(page, "<td>10.000 bis 50.000 €</td>") {
		t.Error("the comparison does not sort by or show the cost band")
	}
	if got := titlesOf(do(t, s, "GET", "/topics/klimaresilienz?sort=cost_band").Body.String()); strings.Join(got, "|") != "Starkregen-Hinweiskarte|Gründächer im Hafen" {
		t.Errorf("comparison by cost band: %v", got)
	}
}
