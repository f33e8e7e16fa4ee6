package views

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiErrorOf decodes an API error body.
func apiErrorOf(t *testing.T, body []byte) apiErrorDetail {
	t.Helper()
	var e apiErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an API error: %v: %s", err, body)
	}
	return e.Error
}

// The comment API edits, deletes and hides by exactly the forms' rules:
// the author for 15 minutes, admins of the article's city and network
// admins hide; a comment on an article the caller may not read is as
// unknown as a missing one.
func TestCommentAPIFollowsTheFormsRules(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, commentItems...)
	anna := account(t, s, "anna")
	bernd := account(t, s, "bernd")
	luebecker := account(t, s, "luebecker", "author", "luebeck")
	rostocker := account(t, s, "rostocker", "author", "rostock")
	luebeckAdmin := account(t, s, "luebeckadmin", "admin", "luebeck")
	rostockAdmin := account(t, s, "rostockadmin", "admin", "rostock")
	netAdmin := account(t, s, "netzadmin", "admin", "*")
	_, c1 := postComment(t, s, networkComments, anna, `{"body":"Erste Fassung"}`)
	_, c2 := postComment(t, s, networkComments, anna, `{"body":"Spätere Löschung"}`)
	_, c3 := postComment(t, s, networkComments, anna, `{"body":"Werbung"}`)
	_, c4 := postComment(t, s, networkComments, bernd, `{"body":"Noch mehr Werbung"}`)
	_, secret := postComment(t, s, cityComments, luebecker, `{"body":"Intern besprochen"}`)
	path := func(c testComment, tail string) string {
		return "/api/v1/comments/" + strconv.FormatInt(c.ID, 10) + tail
	}

	type call struct {
		name, method, target, token, body string
		status                            int
	}
	check := func(cs []call) {
		t.Helper()
		for _, c := range cs {
			rec := send(s, c.method, c.target, c.token, "application/json", c.body)
			if rec.Code != c.status {
				t.Errorf("%s: %s %s = %d, want %d: %s", c.name, c.method, c.target, rec.Code, c.status, rec.Body)
			}
			if c.status == 404 && (strings.Contains(rec.Body.String(), "stadtintern") || strings.Contains(rec.Body.String(), "Intern besprochen")) {
				t.Errorf("%s: the 404 names the hidden article: %s", c.name, rec.Body)
			}
		}
	}
	check([]call{
		{"anonymous edits", "PATCH", path(c1, ""), "", `{"body":"x"}`, 401},
		{"anonymous deletes", "DELETE", path(c1, ""), "", "", 401},
		{"anonymous hides", "POST", path(c1, "/hide"), "", "", 401},
		{"another member edits", "PATCH", path(c1, ""), bernd, `{"body":"Übernommen"}`, 403},
		{"another member deletes", "DELETE", path(c1, ""), bernd, "", 403},
		{"a city admin edits someone's comment", "PATCH", path(c1, ""), luebeckAdmin, `{"body":"x"}`, 403},
		{"the author hides", "POST", path(c3, "/hide"), anna, "", 403},
		{"another city's admin hides", "POST", path(c3, "/hide"), rostockAdmin, "", 403},
		{"an empty edit", "PATCH", path(c1, ""), anna, `{"body":"  "}`, 422},
		{"a missing comment", "PATCH", "/api/v1/comments/999999", anna, `{"body":"x"}`, 404},
		// A comment on a Lübeck-only article: others may not know it.
		{"member edits a city-only comment", "PATCH", path(secret, ""), anna, `{"body":"x"}`, 404},
		{"other city deletes a city-only comment", "DELETE", path(secret, ""), rostocker, "", 404},
		{"other city's admin hides a city-only comment", "POST", path(secret, "/hide"), rostockAdmin, "", 404},
		{"member hides a city-only comment", "POST", path(secret, "/hide"), anna, "", 404},
	})
	// The author edits: the answer is the comment as the list shows it.
	rec := send(s, "PATCH", path(c1, ""), anna, "application/json", `{"body":"Zweite *Fassung*"}`)
	var edited commentJSON
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &edited) != nil || edited.Body != "Zweite *Fassung*" ||
		!edited.Edited || !strings.Contains(edited.HTML, "<em>Fassung</em>") {
		t.Fatalf("the author edits: %d %s", rec.Code, rec.Body)
	}
	if list := listComments(t, s, networkComments, bernd); list[0].Body != "Zweite *Fassung*" {
		t.Errorf("others read %q after the edit", list[0].Body)
	}

	// Hiding: the city's admin and a network admin; hidden once only.
	check([]call{
		{"the city admin hides", "POST", path(c3, "/hide"), luebeckAdmin, "", 204},
		{"a network admin hides", "POST", path(c4, "/hide"), netAdmin, "", 204},
		{"hiding twice", "POST", path(c3, "/hide"), netAdmin, "", 404},
		{"the author edits a hidden comment", "PATCH", path(c3, ""), anna, `{"body":"Doch nicht"}`, 404},
		{"the author deletes a hidden comment", "DELETE", path(c3, ""), anna, "", 404},
	})
	// As on the page, a hidden comment is gone for everybody, its author
	// and the admins included; with replies it stays as an empty
	// placeholder (see TestCommentHidingByCityAdmins).
	for name, token := range map[string]string{"a member": bernd, "its author": anna, "the city admin": luebeckAdmin} {
		for _, c := range listComments(t, s, networkComments, token) {
			if c.Body == "Werbung" || c.Body == "Noch mehr Werbung" || c.ID == c3.ID || c.ID == c4.ID {
				t.Errorf("%s still sees hidden comment %d", name, c.ID)
			}
		}
	}
	page := send(s, "GET", "/c/luebeck/netzwerkbericht", anna, "", "").Body.String()
	if strings.Contains(page, "Werbung") {
		t.Errorf("the article page shows a hidden comment to its author")
	}

	// 16 minutes later the author's window has closed: a clear 403.
	s.workflow.Skew(16 * time.Minute)
	for _, c := range []call{
		{"an edit after 16 minutes", "PATCH", path(c1, ""), anna, `{"body":"Dritte Fassung"}`, 403},
		{"a deletion after 16 minutes", "DELETE", path(c2, ""), anna, "", 403},
	} {
		rec := send(s, c.method, c.target, c.token, "application/json", c.body)
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d", c.name, rec.Code, c.status)
			continue
		}
		if e := apiErrorOf(t, rec.Body.Bytes()); e.Code != "forbidden" || !strings.Contains(e.Message, "15m") {
			t.Errorf("%s: error %+v does not say why", c.name, e)
		}
	}
	// Admins still hide after the window.
	check([]call{{"the city admin hides later", "POST", path(c2, "/hide"), luebeckAdmin, "", 204}})

	// Back within the window (14 minutes after writing), deleting works.
	s.workflow.Skew(-2 * time.Minute)
	_, c5 := postComment(t, s, networkComments, anna, `{"body":"Gleich weg"}`)
	check([]call{
		{"a deletion 14 minutes after writing", "DELETE", path(c1, ""), anna, "", 204},
		{"deleting twice", "DELETE", path(c1, ""), anna, "", 404},
		{"a fresh comment", "DELETE", path(c5, ""), anna, "", 204},
	})
	if list := listComments(t, s, networkComments, bernd); len(list) != 0 {
		t.Errorf("left after deleting and hiding: %+v", list)
	}
}

// The comment API's answers conform to the schemas the document promises.
func TestCommentAPIMatchesOpenAPISchemas(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, commentItems...)
	doc := loadOpenAPI(t)
	anna := account(t, s, "anna")
	admin := account(t, s, "netzadmin", "admin", "*")
	_, c := postComment(t, s, networkComments, anna, `{"body":"Hallo"}`)
	id := strconv.FormatInt(c.ID, 10)
	for _, x := range []struct {
		method, target, path, token, body string
		status                            int
	}{
		{"PATCH", "/api/v1/comments/" + id, "/comments/{id}", anna, `{"body":"Hallo!"}`, 200},
		{"PATCH", "/api/v1/comments/" + id, "/comments/{id}", admin, `{"body":"Hallo!"}`, 403},
		{"PATCH", "/api/v1/comments/" + id, "/comments/{id}", anna, `{"body":""}`, 422},
		{"POST", "/api/v1/comments/" + id + "/hide", "/comments/{id}/hide", anna, "", 403},
		{"POST", "/api/v1/comments/" + id + "/hide", "/comments/{id}/hide", admin, "", 204},
		{"DELETE", "/api/v1/comments/" + id, "/comments/{id}", anna, "", 404},
	} {
		rec := send(s, x.method, x.target, x.token, "application/json", x.body)
		if rec.Code != x.status {
			t.Errorf("%s %s = %d, want %d: %s", x.method, x.target, rec.Code, x.status, rec.Body)
			continue
		}
		var op operation
		if err := json.Unmarshal(doc.Paths[x.path][strings.ToLower(x.method)], &op); err != nil {
			t.Fatalf("%s: %v", x.path, err)
		}
		resp, ok := op.Responses[strconv.Itoa(x.status)]
		if !ok {
			t.Errorf("%s %s: status %d undocumented", x.method, x.path, x.status)
			continue
		}
		if x.status == 204 {
			continue
		}
		sc := resp.Content["application/json"].Schema
		if resp.Ref != "" {
			sc = doc.Components.Responses[strings.TrimPrefix(resp.Ref, "#/components/responses/")].Content["application/json"].Schema
		}
		var body any
		json.Unmarshal(rec.Body.Bytes(), &body)
		if err := doc.validate(sc, body, "$"); err != nil {
			t.Errorf("%s %s: %v\n%s", x.method, x.target, err, rec.Body)
		}
	}
}
