package views

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A city's admins introduce the city on its page: a description and a
// contact, shown to everyone at once (the cached page is dropped), kept
// within limits, and nobody else may change them.
func TestCityAdminsIntroduceTheirCity(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	account(t, s, "lara", "admin", "luebeck")
	account(t, s, "rene", "admin", "rostock")
	do(t, s, "GET", "/c/luebeck") // cache the page

	post := func(who string, form url.Values) *http.Response {
		t.Helper()
		c := signIn(t, srv.URL, who)
		resp, err := c.Get(srv.URL + "/admin/c/luebeck")
		if err != nil {
			t.Fatal(err)
		}
		page := new(strings.Builder)
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			page.WriteString(string(buf[:n]))
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		token := ""
		if m := csrfField.FindStringSubmatch(page.String()); m != nil {
			token = m[1]
		}
		form.Set("csrf_token", token)
		resp, err = c.PostForm(srv.URL+"/admin/c/luebeck/portal", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	desc := "Lübeck erprobt Quartiersbusse und digitale Akten.\n\nFragen Sie uns <script>alert(1)</script> gern."
	if resp := post("lara", url.Values{"description": {desc}, "contact": {"Stabsstelle Digitalisierung"}}); resp.StatusCode != 200 {
		t.Fatalf("saving the introduction: %d", resp.StatusCode)
	}
	page := do(t, s, "GET", "/c/luebeck").Body.String()
	if !strings.Contains(page, "<p>Lübeck erprobt Quartiersbusse und digitale Akten.</p>") || !strings.Contains(page, "Stabsstelle Digitalisierung") {
		t.Error("the city page does not show the new introduction")
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("the description is not escaped")
	}
	if resp := post("rene", url.Values{"description": {"übernommen"}, "contact": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("another city's admin: %d, want 403", resp.StatusCode)
	}
	if resp := post("lara", url.Values{"description": {strings.Repeat("x", 2001)}, "contact": {""}}); resp.StatusCode != 422 {
		t.Errorf("too long a description: %d, want 422", resp.StatusCode)
	}
	if page := do(t, s, "GET", "/c/luebeck").Body.String(); !strings.Contains(page, "Stabsstelle Digitalisierung") || strings.Contains(page, "übernommen") {
		t.Error("a refused change altered the introduction")
	}
}
