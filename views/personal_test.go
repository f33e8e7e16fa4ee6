package views

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hansewiki/auth"
)

// markerPattern finds a personal marker that was not filled in.
var markerPattern = regexp.MustCompile(`hw[0-9a-f]{32}-`)

// Two members with the same roles share one rendering of an article page,
// and each sees only their own name, token, watch state, drafts and unread
// count; what one of them changes shows on their next request while the
// shared page stays cached.
func TestSharedPagesShowEachReaderOnlyTheirOwnParts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, sampleItems...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	de := s.catalogs["de"]
	const path = "/c/luebeck/quartiersbus-in-luebeck"

	people := map[string]string{"anna": "Anna Albers", "bernd": "Bernd Brandt"}
	tokens := map[string]string{}
	for name, display := range people {
		u, err := s.auth.CreateUser(ctx, auth.NewUser{Username: name, DisplayName: display, Password: "correct horse battery"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.auth.Grant(ctx, name, "author", "luebeck", "test"); err != nil {
			t.Fatal(err)
		}
		if tokens[name], _, err = s.auth.CreateToken(ctx, u.ID, auth.TokenPersonal, "test", 0, "test"); err != nil {
			t.Fatal(err)
		}
	}
	// Anna has a draft of the article and an unread notification about it.
	var art struct{ Revision int64 }
	json.Unmarshal(send(s, "GET", "/api/v1/articles/luebeck/quartiersbus-in-luebeck", tokens["anna"], "", "").Body.Bytes(), &art)
	rec := send(s, "POST", "/api/v1/changes", tokens["anna"], "application/json",
		`{"city":"luebeck","slug":"quartiersbus-in-luebeck","base_revision":`+jsonInt(art.Revision)+
			`,"title":"Quartiersbus in Lübeck","body":"Entwurf","summary":"Entwurf"}`)
	var draft struct{ ID int64 }
	if json.Unmarshal(rec.Body.Bytes(), &draft); rec.Code != 201 || draft.ID == 0 {
		t.Fatalf("draft: %d %s", rec.Code, rec.Body)
	}
	if _, err := s.store.Pool().Exec(ctx, `INSERT INTO notifications (user_id, kind, change_id, article_id, actor)
		SELECT u.id, 'comment', $1, c.article_id, 'bernd' FROM users u, change_requests c WHERE u.username = 'anna' AND c.id = $1`, draft.ID); err != nil {
		t.Fatal(err)
	}
	browsers := map[string]*http.Client{"anna": signIn(t, srv.URL, "anna"), "bernd": signIn(t, srv.URL, "bernd")}
	page := func(who string) string {
		t.Helper()
		resp, err := browsers[who].Get(srv.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: GET %s: %v %v", who, path, err, resp.Status)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if m := markerPattern.Find(b); m != nil {
			t.Fatalf("%s's page has an unfilled personal marker", who)
		}
		return string(b)
	}
	watching := func(body string) bool {
		return strings.Contains(body, `name="watch" value="off"`) && strings.Contains(body, de.T("watch.stop"))
	}

	// Anna watches the article, through the form on the page.
	first := page("anna")
	resp, err := browsers["anna"].PostForm(srv.URL+path+"/watch", url.Values{"csrf_token": {csrfField.FindStringSubmatch(first)[1]}, "watch": {"on"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("watch: %v %v", err, resp.Status)
	}
	resp.Body.Close()

	hits := s.metrics.cacheHits.Load()
	anna, bernd := page("anna"), page("bernd")
	if got := s.metrics.cacheHits.Load() - hits; got < 1 {
		t.Errorf("the second reader with the same roles must get the shared rendering (cache hits: %d)", got)
	}
	draftItem := de.T("pending.item", draft.ID, "Anna Albers")
	checks := []struct {
		what      string
		annaHas   bool
		berndHas  bool
		annaPage  bool
		berndPage bool
	}{
		{"Anna's name", true, false, strings.Contains(anna, "Anna Albers"), strings.Contains(bernd, "Anna Albers")},
		{"Bernd's name", false, true, strings.Contains(anna, "Bernd Brandt"), strings.Contains(bernd, "Bernd Brandt")},
		{"watching", true, false, watching(anna), watching(bernd)},
		{"Anna's draft", true, false, strings.Contains(anna, draftItem), strings.Contains(bernd, draftItem)},
		{"an unread badge", true, false, strings.Contains(anna, `class="count-badge">1<`), strings.Contains(bernd, `count-badge`)},
	}
	for _, c := range checks {
		if c.annaPage != c.annaHas || c.berndPage != c.berndHas {
			t.Errorf("%s: on Anna's page %v (want %v), on Bernd's %v (want %v)", c.what, c.annaPage, c.annaHas, c.berndPage, c.berndHas)
		}
	}
	annaCSRF, berndCSRF := csrfField.FindStringSubmatch(anna)[1], csrfField.FindStringSubmatch(bernd)[1]
	if annaCSRF == berndCSRF {
		t.Error("both readers got the same CSRF token")
	}

	// Bernd's token works for Bernd's forms only: with Anna's it is refused.
	resp, _ = browsers["bernd"].PostForm(srv.URL+path+"/watch", url.Values{"csrf_token": {annaCSRF}, "watch": {"on"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Bernd posting with Anna's token: %d, want 403", resp.StatusCode)
	}
	// Anna stops watching and reads her notifications: her next page
	// shows both, from the same shared rendering.
	for _, f := range []struct {
		path string
		form url.Values
	}{{path + "/watch", url.Values{"watch": {"off"}}}, {"/notifications/read", url.Values{}}} {
		f.form.Set("csrf_token", annaCSRF)
		resp, err := browsers["anna"].PostForm(srv.URL+f.path, f.form)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s: %v %v", f.path, err, resp.Status)
		}
		resp.Body.Close()
	}
	hits = s.metrics.cacheHits.Load()
	anna = page("anna")
	if watching(anna) || strings.Contains(anna, "count-badge") {
		t.Error("Anna's page still shows her as watching, or the read notification as unread")
	}
	if s.metrics.cacheHits.Load() == hits {
		t.Error("the shared page was rendered again for a personal change")
	}
	if anon := do(t, s, "GET", path).Body.String(); strings.Contains(anon, "Anna") || strings.Contains(anon, "csrf_token") || markerPattern.MatchString(anon) {
		t.Error("the anonymous page carries personal parts")
	}
}

// A page read with a bearer token shares the rendering too, and gets no
// session: a token is no ambient credential, so there is no CSRF token to
// hand out and nothing to write.
func TestTokenPagesGetNoSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, sampleItems...)
	token := account(t, s, "tina", "reviewer", "luebeck")
	count := func() (n int) {
		s.store.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n)
		return n
	}
	before := count()
	for range 3 {
		rec := send(s, "GET", "/c/luebeck/quartiersbus-in-luebeck", token, "", "")
		if rec.Code != 200 || rec.Header().Get("Set-Cookie") != "" {
			t.Fatalf("token page: %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
		}
		if body := rec.Body.String(); csrfField.MatchString(body) || !strings.Contains(body, `name="csrf_token" value=""`) || markerPattern.MatchString(body) {
			t.Fatalf("a token page must carry empty CSRF fields and no markers")
		}
	}
	if after := count(); after != before {
		t.Errorf("token page views created %d sessions", after-before)
	}
}
