package views

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/textdiff"
	"hansewiki/workflow"
)

// apiUser adds a user with one role and returns an identity and an API token.
func apiUser(t testing.TB, s *Server, name, role, city string) (*auth.Identity, string) {
	t.Helper()
	ctx := context.Background()
	var uid int64
	if err := s.store.Pool().QueryRow(ctx, `INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') RETURNING id`, name).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if err := s.auth.Grant(ctx, name, role, city, "test"); err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.auth.CreateToken(ctx, uid, auth.TokenPersonal, "test", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.auth.IdentityByID(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

func doJSON(t *testing.T, s *Server, method, target, token string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var b strings.Builder
	if body != nil {
		json.NewEncoder(&b).Encode(body)
	}
	req := httptest.NewRequest(method, target, strings.NewReader(b.String()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := newRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// checkDocumented validates a real answer against the OpenAPI document.
func checkDocumented(t *testing.T, doc *openAPIDoc, path, method string, rec *httptest.ResponseRecorder) {
	t.Helper()
	var op operation
	if err := json.Unmarshal(doc.Paths[path][method], &op); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp, ok := op.Responses[strconv.Itoa(rec.Code)]
	if !ok {
		t.Fatalf("%s %s: status %d is not documented", method, path, rec.Code)
	}
	sc := resp.Content["application/json"].Schema
	if resp.Ref != "" {
		sc = doc.Components.Responses[strings.TrimPrefix(resp.Ref, "#/components/responses/")].Content["application/json"].Schema
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: not JSON: %v", method, path, err)
	}
	if err := doc.validate(sc, body, "$"); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, rec.Body)
	}
}

// A change in conflict carries the documented merge; a PUT that keeps the
// markers is the documented 422 merge.unresolved, and the resolved merge
// rebases the change.
func TestConflictChangeCarriesMerge(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	doc := loadOpenAPI(t)
	ctx := context.Background()
	author, authorToken := apiUser(t, s, "autorin", "author", "luebeck")
	colleague, _ := apiUser(t, s, "kollege", "author", "luebeck")
	reviewer, _ := apiUser(t, s, "pruefer", "reviewer", "luebeck")
	a, err := s.store.Article(ctx, wiki.Reader{Member: true}, "luebeck", "quartiersbus-in-luebeck")
	if err != nil {
		t.Fatal(err)
	}
	propose := func(id *auth.Identity, old, new string) *workflow.Change {
		d := a.Revision.Draft()
		d.Body = strings.Replace(d.Body, old, new, 1)
		c, err := s.workflow.Create(ctx, workflow.Meta{Identity: id}, workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	theirs := propose(colleague, "Der Bus fährt.", "Der Bus fährt stündlich.")
	ours := propose(author, "Der Bus fährt.", "Der Bus fährt täglich.")
	for _, c := range []*workflow.Change{theirs, ours} {
		if _, err := s.workflow.Approve(ctx, workflow.Meta{Identity: reviewer}, c.ID, "", 0); err != nil {
			t.Fatal(err)
		}
	}
	target := fmt.Sprintf("/api/v1/changes/%d", ours.ID)
	rec := doJSON(t, s, "GET", target, authorToken, nil)
	checkDocumented(t, doc, "/changes/{id}", "get", rec)
	var got struct {
		State string
		Merge *workflow.Merge
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got.State != "conflict" || got.Merge == nil || got.Merge.Conflicts != 1 || !strings.Contains(got.Merge.Body, textdiff.MarkerTheirs) ||
		!strings.Contains(got.Merge.Body, "Der Bus fährt stündlich.") {
		t.Fatalf("GET of a conflict change: %s", rec.Body)
	}
	m := got.Merge
	put := map[string]any{"title": m.Title, "body": m.Body, "topics": m.Topics, "tags": m.Tags, "visibility": m.Visibility,
		"status": m.Status, "start_year": m.StartYear, "base_revision": m.BaseRevision}
	rec = doJSON(t, s, "PUT", target, authorToken, put)
	checkDocumented(t, doc, "/changes/{id}", "put", rec)
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), `"code":"merge.unresolved"`) {
		t.Fatalf("PUT with markers: %d %s", rec.Code, rec.Body)
	}
	put["body"] = "## Überblick\n\nDer Bus fährt täglich und stündlich.\n"
	rec = doJSON(t, s, "PUT", target, authorToken, put)
	checkDocumented(t, doc, "/changes/{id}", "put", rec)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"state":"in_review"`) || strings.Contains(rec.Body.String(), `"merge"`) {
		t.Fatalf("PUT of the resolved merge: %d %s", rec.Code, rec.Body)
	}
}
