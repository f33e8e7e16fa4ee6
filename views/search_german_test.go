package views

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hansewiki/wiki"
	"hansewiki/wiki/search"
)

// drainSearch brings the search rows of everything published up to date,
// as the search worker does after each publication.
func drainSearch(t *testing.T, s *Server) {
	t.Helper()
	if _, err := s.search.(*search.Service).Worker().Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.opts.Barrier.Sync(context.Background())
}

var stationItems = append(slices.Clone(sampleItems),
	wiki.ImportItem{Source: "s", Draft: wiki.Draft{City: "luebeck", Title: "Mobilitätsstation am Bahnhof", Visibility: wiki.Public,
		Topics: []string{"mobilitaet"}, Tags: []string{"ÖPNV", "Umstieg"},
		Body: "Die Mobilitätsstation bündelt ÖPNV, Carsharing und Leihräder. Der ÖPNV hält vor der Tür."}})

// Corrections and tags are shown as the articles write them, on the page
// and in the JSON, not in the lower-case or folded form search compares.
func TestSearchShowsWordsAsWritten(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, stationItems...)
	drainSearch(t, s)

	var res struct {
		Total      int               `json:"total"`
		DidYouMean string            `json:"did_you_mean"`
		TagLabels  map[string]string `json:"tag_labels"`
		Facets     map[string]map[string]int
	}
	rec := do(t, s, "GET", "/api/v1/search?q=mobilit%C3%A4tstation")
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %v: %s", rec.Code, err, rec.Body)
	}
	if res.DidYouMean != "Mobilitätsstation" {
		t.Errorf("did_you_mean = %q, want Mobilitätsstation as written", res.DidYouMean)
	}
	rec = do(t, s, "GET", "/api/v1/search?q=Carsharing")
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Total != 1 {
		t.Fatalf("q=Carsharing: %v %s", err, rec.Body)
	}
	if res.Facets["tags"]["öpnv"] != 1 {
		t.Errorf("tag facet keys stay the filter values: %v", res.Facets["tags"])
	}
	if res.TagLabels["öpnv"] != "ÖPNV" || res.TagLabels["umstieg"] != "umstieg" {
		t.Errorf("tag_labels = %v, want öpnv as ÖPNV and umstieg (not in the text) as stored", res.TagLabels)
	}

	page := do(t, s, "GET", "/search?q=mobilit%C3%A4tstation").Body.String()
	want := `Meinten Sie <a href="/search?q=` + url.QueryEscape("Mobilitätsstation") + `">Mobilitätsstation</a>?`
	if !strings.Contains(html.UnescapeString(page), html.UnescapeString(want)) {
		t.Errorf("the page does not offer the correction as written, linked to its search:\n%s", excerpt(page, "did-you-mean"))
	}
	page = do(t, s, "GET", "/search?q=Carsharing").Body.String()
	if !strings.Contains(page, `<span class="facet-label">ÖPNV</span>`) || strings.Contains(page, `<span class="facet-label">öpnv</span>`) {
		t.Errorf("the tag facet is not shown as written:\n%s", excerpt(page, "facet-tag"))
	}
	// The filter link still carries the stored tag.
	if !strings.Contains(page, "tag="+url.QueryEscape("öpnv")) {
		t.Errorf("the tag facet does not filter by the stored tag:\n%s", excerpt(page, "facet-tag"))
	}
	page = do(t, s, "GET", "/c/luebeck/mobilitaetsstation-am-bahnhof").Body.String()
	if !strings.Contains(page, "<li>ÖPNV</li>") {
		t.Errorf("the article page does not show its tag as written:\n%s", excerpt(page, "tag-list"))
	}
}

// excerpt is the part of page around marker, for failure messages.
func excerpt(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return "(" + marker + " not on the page)"
	}
	return page[max(0, i-200):min(len(page), i+800)]
}

// Members find questions by the words of their text and of their answers,
// German as articles (inflected forms too), through the search page and
// GET /api/v1/search; anonymous readers never see them.
func TestSearchFindsQuestions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	asker := account(t, s, "fragerin")
	answerer := account(t, s, "antworterin")
	account(t, s, "leserin")
	rec := send(s, "POST", "/api/v1/questions", asker, "application/json",
		`{"title":"Wer hat Erfahrung mit Quartiersgaragen?","body":"Wir planen Stellplätze mit Ladesäulen am Stadtrand.","topics":["mobilitaet"]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("ask: %d %s", rec.Code, rec.Body)
	}
	q := decodeQuestion(t, rec, rec.Body.String())
	qid := strconv.FormatInt(q.ID, 10)
	if rec := send(s, "POST", "/api/v1/questions/"+qid+"/answers", answerer, "application/json",
		`{"body":"Unsere Parkpalette wurde mit Fördermitteln umgebaut."}`); rec.Code != http.StatusCreated {
		t.Fatalf("answer: %d %s", rec.Code, rec.Body)
	}
	drainSearch(t, s)

	type found struct {
		Hits      []json.RawMessage `json:"hits"`
		Questions []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"questions"`
	}
	for _, c := range []struct{ name, q string }{
		{"a word of its text, inflected", "Stellplatz"},
		{"a word of an answer", "Parkpaletten"},
		{"words of title and text together", "Quartiersgaragen Ladesäulen"},
		{"an umlaut typed as ae", "Ladesaeule"},
	} {
		rec := send(s, "GET", "/api/v1/search?q="+url.QueryEscape(c.q), asker, "", "")
		var f found
		if err := json.Unmarshal(rec.Body.Bytes(), &f); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %v %s", c.name, rec.Code, err, rec.Body)
		}
		if len(f.Questions) != 1 || f.Questions[0].ID != q.ID {
			t.Errorf("%s (q=%s): questions = %+v, want the question", c.name, c.q, f.Questions)
		}
		if f.Hits == nil {
			t.Errorf("%s: the article hits are still there (as [])", c.name)
		}
	}
	rec = send(s, "GET", "/api/v1/search?q=Fahrradgarage", asker, "", "")
	if !strings.Contains(rec.Body.String(), `"questions":[]`) {
		t.Errorf("a member's search without matching questions has an empty list: %s", rec.Body)
	}

	// Anonymous: no questions, not even the field.
	rec = do(t, s, "GET", "/api/v1/search?q=Parkpalette")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("anonymous: %d %v", rec.Code, err)
	}
	if _, ok := raw["questions"]; ok || strings.Contains(rec.Body.String(), "Quartiersgaragen") {
		t.Errorf("an anonymous search shows questions: %s", rec.Body)
	}

	srv := httptest.NewServer(s)
	defer srv.Close()
	page := getPage(t, signIn(t, srv.URL, "leserin"), srv.URL+"/search?q=Parkpalette")
	link := `<a href="/questions/` + qid + `" lang="de">Wer hat Erfahrung mit Quartiersgaragen?</a>`
	if !strings.Contains(page, link) {
		t.Errorf("the search page does not list the question with its link:\n%s", excerpt(page, "question-results"))
	}
	resp, err := http.Get(srv.URL + "/search?q=Parkpalette")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Quartiersgaragen") {
		t.Errorf("an anonymous search page shows the question")
	}
}
