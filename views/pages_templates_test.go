package views

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func postForm(s *Server, token, target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// A new article starts from a template (the experience report's structure
// by default), chosen by a plain form; network admins edit the templates,
// nobody else may.
func TestArticleTemplates(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, author := apiUser(t, s, "autorin", "author", "luebeck")
	_, admin := apiUser(t, s, "koordination", "admin", "*")
	_, cityAdmin := apiUser(t, s, "stadtadmin", "admin", "luebeck")

	page := getFile(s, author, "/c/luebeck/new").Body.String()
	if !strings.Contains(page, `<option value="erfahrungsbericht">Erfahrungsbericht</option>`) {
		t.Fatalf("the new-article page offers no template:\n%s", page)
	}
	page = getFile(s, author, "/c/luebeck/new?template=erfahrungsbericht").Body.String()
	for _, h := range []string{"## Ausgangslage", "## Vorgehen", "## Ergebnisse", "## Was wir gelernt haben", "## Übertragbarkeit"} {
		if !strings.Contains(page, h) {
			t.Errorf("the experience report template lacks %q", h)
		}
	}
	if code := getFile(s, author, "/c/luebeck/new?template=gibtsnicht").Code; code != 404 {
		t.Errorf("unknown template: %d", code)
	}

	for who, token := range map[string]string{"author": author, "city admin": cityAdmin} {
		if code := getFile(s, token, "/admin/templates").Code; code != 403 {
			t.Errorf("%s opens the templates page: %d", who, code)
		}
		if rec := postForm(s, token, "/admin/templates", url.Values{"name_de": {"Fremd"}, "body": {"x"}}); rec.Code != 403 {
			t.Errorf("%s saves a template: %d", who, rec.Code)
		}
	}
	rec := postForm(s, admin, "/admin/templates", url.Values{"name_de": {"Projektsteckbrief"}, "name_en": {"Project profile"},
		"body": {"## Ziel\n\n## Partner\n"}})
	if rec.Code != 303 {
		t.Fatalf("network admin creates a template: %d %s", rec.Code, rec.Body)
	}
	rec = postForm(s, admin, "/admin/templates", url.Values{"slug": {"erfahrungsbericht"}, "name_de": {"Erfahrungsbericht"},
		"body": {"## Ausgangslage\n\nNeu formuliert.\n"}})
	if rec.Code != 303 {
		t.Fatalf("network admin edits a template: %d %s", rec.Code, rec.Body)
	}
	if rec := postForm(s, admin, "/admin/templates", url.Values{"name_de": {""}, "body": {"x"}}); rec.Code != 422 ||
		!strings.Contains(rec.Body.String(), "Die Vorlage braucht einen Namen") {
		t.Fatalf("a template without a name: %d", rec.Code)
	}
	page = getFile(s, admin, "/admin/templates").Body.String()
	if !strings.Contains(page, "Projektsteckbrief") || !strings.Contains(page, "Neu formuliert.") {
		t.Fatalf("templates page after saving:\n%s", page)
	}
	if page = getFile(s, author, "/c/luebeck/new?template=projektsteckbrief").Body.String(); !strings.Contains(page, "## Partner") {
		t.Fatalf("the new template is not offered")
	}
	if !strings.Contains(getFile(s, admin, "/admin/audit").Body.String(), "template:projektsteckbrief") {
		t.Errorf("saving a template is not audited")
	}
}
