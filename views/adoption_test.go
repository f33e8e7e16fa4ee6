package views

import (
	"encoding/json"
	"strings"
	"testing"

	"hansewiki/wiki"
)

var adoptionItems = append([]wiki.ImportItem{
	{Source: "i", Draft: wiki.Draft{City: "luebeck", Title: "Interne Vorlage", Visibility: wiki.CityVis, Body: "## Ansatz\n\nNur für Lübeck.\n"}},
}, sampleItems...)

// publish proposes d through the API as author and has reviewer approve
// it; it returns the new article's address.
func publish(t *testing.T, s *Server, author, reviewer, body string) string {
	t.Helper()
	rec := send(s, "POST", "/api/v1/changes", author, "application/json", body)
	var ch struct {
		ID, Revision int64
		City, Slug   string
	}
	if json.Unmarshal(rec.Body.Bytes(), &ch); rec.Code != 201 {
		t.Fatalf("proposing: %d %s", rec.Code, rec.Body)
	}
	if rec := send(s, "POST", "/api/v1/changes/"+jsonInt(ch.ID)+"/approve", reviewer, "application/json",
		`{"revision":`+jsonInt(ch.Revision)+`}`); rec.Code != 200 {
		t.Fatalf("approving: %d %s", rec.Code, rec.Body)
	}
	return ch.City + "/" + ch.Slug
}

// An article names the article of another city it builds on; the source
// lists who adopted it; "Übernehmen" starts an article with its structure
// and the link; and a source the reader may not read is never mentioned.
func TestAdoptingAnotherCitysExperience(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, adoptionItems...)
	author := account(t, s, "rita", "author", "rostock", "author", "luebeck")
	reviewer := account(t, s, "rolf", "reviewer", "rostock")
	lueb := account(t, s, "lisa", "author", "luebeck")

	// Refused: the own city, a bad address, an article that does not exist.
	for _, from := range []string{"rostock/x", "Lübeck", "luebeck/gibt-es-nicht"} {
		rec := send(s, "POST", "/api/v1/changes", author, "application/json",
			`{"city":"rostock","title":"Quartiersbus Rostock","body":"x","summary":"s","visibility":"public","adopted_from":"`+from+`"}`)
		if rec.Code != 422 || !strings.Contains(rec.Body.String(), "adopted_from") {
			t.Errorf("adopted_from %q: %d %s", from, rec.Code, rec.Body)
		}
	}

	// The new-article page started by "Übernehmen" carries the link and
	// the source's structure.
	page := send(s, "GET", "/c/rostock/new?adopt=luebeck/quartiersbus-in-luebeck", author, "", "").Body.String()
	if !strings.Contains(page, `value="luebeck/quartiersbus-in-luebeck"`) || !strings.Contains(page, "[[luebeck/quartiersbus-in-luebeck]]") ||
		!strings.Contains(page, "## Überblick") {
		t.Error("the adopting editor lacks the link or the source's headings")
	}
	if rec := send(s, "GET", "/c/rostock/new?adopt=wismar/gibt-es-nicht", author, "", ""); rec.Code != 404 {
		t.Errorf("adopting a missing article: %d", rec.Code)
	}
	if body := send(s, "GET", "/c/luebeck/quartiersbus-in-luebeck", author, "", "").Body.String(); !strings.Contains(body, "/c/rostock/new?adopt=luebeck%2Fquartiersbus-in-luebeck") {
		t.Error("the source's page offers no way to adopt it into the reader's other city")
	}

	adopted := publish(t, s, author, reviewer, `{"city":"rostock","title":"Quartiersbus Rostock","body":"Wie in Lübeck.","summary":"s",`+
		`"visibility":"public","submit":true,"adopted_from":"luebeck/quartiersbus-in-luebeck"}`)
	var art struct {
		AdoptedFrom *string  `json:"adopted_from"`
		AdoptedBy   []string `json:"adopted_by"`
	}
	json.Unmarshal(do(t, s, "GET", "/api/v1/articles/"+adopted).Body.Bytes(), &art)
	if art.AdoptedFrom == nil || *art.AdoptedFrom != "luebeck/quartiersbus-in-luebeck" {
		t.Errorf("adopted_from of the new article: %v", art.AdoptedFrom)
	}
	json.Unmarshal(do(t, s, "GET", "/api/v1/articles/luebeck/quartiersbus-in-luebeck").Body.Bytes(), &art)
	if len(art.AdoptedBy) != 1 || art.AdoptedBy[0] != adopted {
		t.Errorf("adopted_by of the source: %v", art.AdoptedBy)
	}
	if body := do(t, s, "GET", "/c/luebeck/quartiersbus-in-luebeck").Body.String(); !strings.Contains(body, "Quartiersbus Rostock") {
		t.Error("the source's page does not list the adopting article")
	}
	if body := do(t, s, "GET", "/c/"+adopted).Body.String(); !strings.Contains(body, `href="/c/luebeck/quartiersbus-in-luebeck"`) {
		t.Error("the adopting article's page does not link its source")
	}

	// Built on a city-only article: only Lübeck's staff learn of it.
	second := publish(t, s, author, reviewer, `{"city":"rostock","title":"Vorlage Rostock","body":"Nach Lübecker Vorlage.","summary":"s",`+
		`"visibility":"public","submit":true,"adopted_from":"luebeck/interne-vorlage"}`)
	art.AdoptedFrom = nil
	json.Unmarshal(do(t, s, "GET", "/api/v1/articles/"+second).Body.Bytes(), &art)
	if art.AdoptedFrom != nil {
		t.Errorf("an anonymous reader learns of the city-only source: %q", *art.AdoptedFrom)
	}
	if body := do(t, s, "GET", "/c/"+second).Body.String(); strings.Contains(body, "Interne Vorlage") || strings.Contains(body, "interne-vorlage") {
		t.Error("the page names a city-only source to an anonymous reader")
	}
	if body := send(s, "GET", "/c/"+second, lueb, "", "").Body.String(); !strings.Contains(body, "Interne Vorlage") {
		t.Error("Lübeck's staff do not see the source")
	}
	json.Unmarshal(send(s, "GET", "/api/v1/articles/luebeck/interne-vorlage", lueb, "", "").Body.Bytes(), &art)
	if len(art.AdoptedBy) != 1 || art.AdoptedBy[0] != second {
		t.Errorf("adopted_by of the city-only source for Lübeck: %v", art.AdoptedBy)
	}
}
