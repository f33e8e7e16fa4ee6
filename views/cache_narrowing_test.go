package views

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"hansewiki/auth"
)

// Once an approval that narrowed an article has answered, no cached page
// or feed shows it any more: this instance drops its cache before the
// answer leaves, without waiting for the publication's notification (none
// arrives here: no listener runs in this test).
func TestNarrowingApprovalDropsCachedPagesBeforeItAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, sampleItems...)
	token := func(name, role string) string {
		t.Helper()
		u, err := s.auth.CreateUser(ctx, auth.NewUser{Username: name, Password: "ein-sicheres-passwort"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.auth.Grant(ctx, name, role, "luebeck", "test"); err != nil {
			t.Fatal(err)
		}
		secret, _, err := s.auth.CreateToken(ctx, u.ID, auth.TokenPersonal, "test", 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	author, reviewer := token("autorin", "author"), token("pruefer", "reviewer")
	api := func(tok, method, path, body string) string {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			t.Fatalf("%s %s = %d %s", method, path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	pages := []string{"/feed.atom", "/c/luebeck/feed.atom", "/c/luebeck", "/"}
	for _, p := range pages {
		do(t, s, "GET", p)
		if rec := do(t, s, "GET", p); !strings.Contains(rec.Body.String(), "Quartiersbus in Lübeck") {
			t.Fatalf("GET %s before: %d, no article", p, rec.Code)
		}
	}
	var art struct{ Revision int64 }
	json.Unmarshal([]byte(api(author, "GET", "/api/v1/articles/luebeck/quartiersbus-in-luebeck", "")), &art)
	var change struct{ ID int64 }
	json.Unmarshal([]byte(api(author, "POST", "/api/v1/changes", `{"city":"luebeck","slug":"quartiersbus-in-luebeck","base_revision":`+
		jsonInt(art.Revision)+`,"title":"Quartiersbus in Lübeck","body":"intern","summary":"s","visibility":"city","submit":true}`)), &change)
	hits := s.metrics.cacheHits.Load()
	api(reviewer, "POST", "/api/v1/changes/"+jsonInt(change.ID)+"/approve", `{}`)
	for _, p := range pages {
		if rec := do(t, s, "GET", p); strings.Contains(rec.Body.String(), "Quartiersbus") {
			t.Errorf("GET %s right after the approval still shows the now city-only article", p)
		}
	}
	if s.metrics.cacheHits.Load() != hits {
		t.Error("pages came from the cache after the approval")
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
