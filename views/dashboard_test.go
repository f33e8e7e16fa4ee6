package views

import (
	"net/http"
	"strings"
	"testing"
)

// The review dashboard: a city admin sees their city's figures and
// reviewers by name, a network admin every city; a reviewer or a member
// gets 403, an anonymous visitor the sign-in.
func TestReviewDashboardPage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	cityAdmin := account(t, s, "stadtadmin", "admin", "luebeck")
	netAdmin := account(t, s, "netzadmin", "admin", "*")
	reviewer := account(t, s, "pruefer-hl", "reviewer", "luebeck")
	account(t, s, "pruefer-hro", "reviewer", "rostock")
	member := account(t, s, "mitglied")

	page := send(s, "GET", "/admin/review", cityAdmin, "", "")
	if page.Code != http.StatusOK {
		t.Fatalf("city admin: %d %s", page.Code, page.Body)
	}
	body := page.Body.String()
	for _, want := range []string{"Review-Überblick", "Lübeck", "pruefer-hl", "Median bis zur Entscheidung"} {
		if !strings.Contains(body, want) {
			t.Errorf("the Lübeck admin's dashboard lacks %q", want)
		}
	}
	for _, not := range []string{"city=rostock", "pruefer-hro"} {
		if strings.Contains(body, not) {
			t.Errorf("the Lübeck admin's dashboard shows %q", not)
		}
	}
	body = send(s, "GET", "/admin/review?lang=en", netAdmin, "", "").Body.String()
	for _, want := range []string{"Review overview", "city=luebeck", "city=rostock", "pruefer-hro"} {
		if !strings.Contains(body, want) {
			t.Errorf("the network admin's dashboard lacks %q", want)
		}
	}
	for _, tok := range []string{reviewer, member} {
		if code := send(s, "GET", "/admin/review", tok, "", "").Code; code != http.StatusForbidden {
			t.Errorf("a non-admin gets %d, want 403", code)
		}
	}
	if code := send(s, "GET", "/admin/review", "", "", "").Code; code != http.StatusSeeOther {
		t.Errorf("anonymous gets %d, want the sign-in", code)
	}
}
