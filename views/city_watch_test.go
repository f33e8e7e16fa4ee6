package views

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A member watches a city from its page (CSRF-protected); the shared,
// cached city page shows each member only their own state.
func TestCityWatchOnTheCityPage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	account(t, s, "stadtfan")
	account(t, s, "nachbarin")
	srv := httptest.NewServer(s)
	defer srv.Close()
	fan := signIn(t, srv.URL, "stadtfan")
	page := getPage(t, fan, srv.URL+"/c/rostock")
	m := csrfField.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `action="/c/rostock/watch"`) || !strings.Contains(page, "Stadt beobachten") {
		t.Fatalf("no watch form on the city page: %.2000s", page)
	}
	if resp, err := fan.PostForm(srv.URL+"/c/rostock/watch", url.Values{"watch": {"on"}}); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("watching without CSRF: %v %v", err, resp.StatusCode)
	}
	resp, err := fan.PostForm(srv.URL+"/c/rostock/watch", url.Values{"csrf_token": {m[1]}, "watch": {"on"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); resp.Request.URL.Path != "/c/rostock" || !strings.Contains(string(b), "steht in Ihrem Wochenüberblick") {
		t.Errorf("after watching: %s without the message", resp.Request.URL.Path)
	}
	resp.Body.Close()
	if page := getPage(t, fan, srv.URL+"/c/rostock"); !strings.Contains(page, "Stadt nicht mehr beobachten") {
		t.Error("the city page does not show that the reader watches it")
	}
	if page := getPage(t, fan, srv.URL+"/c/luebeck"); strings.Contains(page, "nicht mehr beobachten") {
		t.Error("watching Rostock shows on Lübeck's page")
	}
	if page := getPage(t, signIn(t, srv.URL, "nachbarin"), srv.URL+"/c/rostock"); !strings.Contains(page, "Stadt beobachten") || strings.Contains(page, "nicht mehr beobachten") {
		t.Error("another member sees the watcher's state")
	}
	if resp, err := http.PostForm(srv.URL+"/c/rostock/watch", url.Values{"watch": {"on"}}); err == nil && resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/c/rostock" {
		t.Error("an anonymous visitor watched a city")
	}
	if page := getPage(t, &http.Client{}, srv.URL+"/c/rostock"); strings.Contains(page, "beobachten") {
		t.Error("an anonymous visitor is offered the watch form")
	}
}
