package views

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// commentItems: a public, a network and a Lübeck-only article, and a
// Lübeck-only article whose title must never show where others read.
var commentItems = []wiki.ImportItem{
	{Source: "a", Draft: wiki.Draft{City: "luebeck", Title: "Quartiersbus in Lübeck", Visibility: wiki.Public, Body: "Der Bus fährt."}},
	{Source: "b", Draft: wiki.Draft{City: "luebeck", Title: "Netzwerkbericht", Visibility: wiki.Network, Body: "Für alle Mitglieder."}},
	{Source: "c", Draft: wiki.Draft{City: "luebeck", Title: "Stadtintern", Visibility: wiki.CityVis, Body: "Nur Lübeck."}},
	{Source: "d", Draft: wiki.Draft{City: "luebeck", Title: "Geheimer Haushaltsplan", Slug: "geheim", Visibility: wiki.CityVis, Body: "Zahlen."}},
}

const (
	publicComments  = "/api/v1/articles/luebeck/quartiersbus-in-luebeck/comments"
	networkComments = "/api/v1/articles/luebeck/netzwerkbericht/comments"
	cityComments    = "/api/v1/articles/luebeck/stadtintern/comments"
)

type testComment struct {
	ID      int64
	Author  string
	Body    string
	HTML    string
	Parent  *int64
	Removed bool
}

func postComment(t *testing.T, s *Server, target, token, body string) (int, testComment) {
	t.Helper()
	rec := send(s, "POST", target, token, "application/json", body)
	var c testComment
	json.Unmarshal(rec.Body.Bytes(), &c)
	return rec.Code, c
}

func listComments(t *testing.T, s *Server, target, token string) []testComment {
	t.Helper()
	rec := send(s, "GET", target, token, "", "")
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	var out []testComment
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Members who may read an article read and write its comments; nobody
// else learns that it, or its discussion, exists.
func TestCommentsFollowVisibilityAndRoles(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, commentItems...)
	member := account(t, s, "mitglied")
	luebeck := account(t, s, "luebecker", "author", "luebeck")
	rostock := account(t, s, "rostocker", "author", "rostock")
	cases := []struct {
		name, target, token string
		read, write         int
	}{
		{"anonymous, public", publicComments, "", 401, 401},
		{"member, public", publicComments, member, 200, 201},
		{"member, network", networkComments, member, 200, 201},
		{"member, city", cityComments, member, 404, 404},
		{"other city, city", cityComments, rostock, 404, 404},
		{"own city, city", cityComments, luebeck, 200, 201},
		{"member, missing", "/api/v1/articles/luebeck/gibt-es-nicht/comments", member, 404, 404},
	}
	for _, c := range cases {
		if rec := send(s, "GET", c.target, c.token, "", ""); rec.Code != c.read {
			t.Errorf("%s: GET %d, want %d: %s", c.name, rec.Code, c.read, rec.Body)
		}
		if code, _ := postComment(t, s, c.target, c.token, `{"body":"Wie lief es?"}`); code != c.write {
			t.Errorf("%s: POST %d, want %d", c.name, code, c.write)
		}
	}
	list := listComments(t, s, cityComments, luebeck)
	if len(list) != 1 || list[0].Author != "luebecker" || list[0].Body != "Wie lief es?" || list[0].Parent != nil {
		t.Fatalf("city comments: %+v", list)
	}
	// The article page shows the discussion to members only.
	page := send(s, "GET", "/c/luebeck/stadtintern", luebeck, "", "").Body.String()
	if !strings.Contains(page, `id="comments-title"`) || !strings.Contains(page, "Wie lief es?") {
		t.Errorf("the article page lacks its discussion")
	}
	if page := do(t, s, "GET", "/c/luebeck/quartiersbus-in-luebeck").Body.String(); strings.Contains(page, "comments-title") || strings.Contains(page, "Wie lief es?") {
		t.Errorf("an anonymous reader sees the members' discussion")
	}
	if code, _ := postComment(t, s, publicComments, member, `{"body":"   "}`); code != 422 {
		t.Errorf("an empty comment: %d, want 422", code)
	}
	if code, _ := postComment(t, s, publicComments, member, `{"body":"`+strings.Repeat("ä", 10001)+`"}`); code != 422 {
		t.Errorf("a comment over the limit: %d, want 422", code)
	}
}

// A reply answers a top-level comment of the same article; a reply to a
// reply is refused.
func TestCommentRepliesAreOneLevelDeep(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, commentItems...)
	member := account(t, s, "mitglied")
	_, top := postComment(t, s, networkComments, member, `{"body":"Frage"}`)
	code, reply := postComment(t, s, networkComments, member, `{"body":"Antwort","parent":`+strconv.FormatInt(top.ID, 10)+`}`)
	if code != 201 || reply.Parent == nil || *reply.Parent != top.ID {
		t.Fatalf("reply: %d %+v", code, reply)
	}
	if code, _ := postComment(t, s, networkComments, member, `{"body":"Tiefer","parent":`+strconv.FormatInt(reply.ID, 10)+`}`); code != 422 {
		t.Errorf("a reply to a reply: %d, want 422", code)
	}
	if code, _ := postComment(t, s, publicComments, member, `{"body":"Fremd","parent":`+strconv.FormatInt(top.ID, 10)+`}`); code != 422 {
		t.Errorf("a reply to another article's comment: %d, want 422", code)
	}
	list := listComments(t, s, networkComments, member)
	if len(list) != 2 || list[0].ID != top.ID || list[1].ID != reply.ID {
		t.Errorf("thread: %+v", list)
	}
}

// formPost sends a form as a bearer-token client (no CSRF token needed).
func formPost(s *Server, target, token string, v url.Values) int {
	return send(s, "POST", target, token, "application/x-www-form-urlencoded", v.Encode()).Code
}

// Authors edit and delete their own comment for 15 minutes, nobody else's.
func TestCommentEditWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, commentItems...)
	anna := account(t, s, "anna")
	bernd := account(t, s, "bernd")
	_, c := postComment(t, s, networkComments, anna, `{"body":"Erste Fassung"}`)
	id := strconv.FormatInt(c.ID, 10)
	if code := formPost(s, "/comments/"+id+"/edit", bernd, url.Values{"body": {"Übernommen"}}); code != 403 {
		t.Errorf("someone else edits: %d, want 403", code)
	}
	if code := formPost(s, "/comments/"+id+"/delete", bernd, nil); code != 403 {
		t.Errorf("someone else deletes: %d, want 403", code)
	}
	if code := formPost(s, "/comments/"+id+"/edit", anna, url.Values{"body": {"Zweite Fassung"}}); code != 303 {
		t.Errorf("the author edits: %d, want 303", code)
	}
	if list := listComments(t, s, networkComments, bernd); len(list) != 1 || list[0].Body != "Zweite Fassung" {
		t.Fatalf("after the edit: %+v", list)
	}
	// 16 minutes later the window has closed.
	if _, err := s.store.Pool().Exec(ctx, `UPDATE article_comments SET created_at = now() - interval '16 minutes' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	// Written outside a request: wait, as a request would, until the
	// server heard it (its caches follow the trigger's notification).
	s.opts.Barrier.Sync(ctx)
	if code := formPost(s, "/comments/"+id+"/edit", anna, url.Values{"body": {"Dritte Fassung"}}); code != 403 {
		t.Errorf("an edit after 16 minutes: %d, want 403", code)
	}
	if code := formPost(s, "/comments/"+id+"/delete", anna, nil); code != 403 {
		t.Errorf("a deletion after 16 minutes: %d, want 403", code)
	}
	// 14 minutes after writing, deleting works; the comment is gone.
	if _, err := s.store.Pool().Exec(ctx, `UPDATE article_comments SET created_at = now() - interval '14 minutes' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if code := formPost(s, "/comments/"+id+"/delete", anna, nil); code != 303 {
		t.Errorf("a deletion after 14 minutes: %d, want 303", code)
	}
	if list := listComments(t, s, networkComments, bernd); len(list) != 0 {
		t.Errorf("after the deletion: %+v", list)
	}
}

// Admins of the article's city and network admins hide a comment, audited;
// nobody else does.
func TestCommentHidingByCityAdmins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, commentItems...)
	member := account(t, s, "mitglied")
	rostockAdmin := account(t, s, "rostockadmin", "admin", "rostock")
	luebeckAdmin := account(t, s, "luebeckadmin", "admin", "luebeck")
	netAdmin := account(t, s, "netzadmin", "admin", "*")
	// The city admin watches the article and is told of comments.
	if code := formPost(s, "/c/luebeck/netzwerkbericht/watch", luebeckAdmin, url.Values{"watch": {"on"}}); code != 303 {
		t.Fatalf("watch: %d", code)
	}
	_, c1 := postComment(t, s, networkComments, member, `{"body":"Werbung"}`)
	_, c2 := postComment(t, s, networkComments, member, `{"body":"Noch mehr Werbung"}`)
	hide := func(c testComment) string {
		return "/c/luebeck/netzwerkbericht/comments/" + strconv.FormatInt(c.ID, 10) + "/hide"
	}
	for name, token := range map[string]string{"its author": member, "another city's admin": rostockAdmin} {
		if code := formPost(s, hide(c1), token, nil); code != 403 {
			t.Errorf("%s hides: %d, want 403", name, code)
		}
	}
	// The city in the path must be the article's: a Rostock admin cannot
	// hide through a Rostock path.
	if code := formPost(s, "/c/rostock/netzwerkbericht/comments/"+strconv.FormatInt(c1.ID, 10)+"/hide", rostockAdmin, nil); code != 404 {
		t.Errorf("hiding through another city's path: %d, want 404", code)
	}
	if code := formPost(s, hide(c1), luebeckAdmin, nil); code != 303 {
		t.Errorf("the city admin hides: %d, want 303", code)
	}
	if code := formPost(s, hide(c2), netAdmin, nil); code != 303 {
		t.Errorf("a network admin hides: %d, want 303", code)
	}
	if list := listComments(t, s, networkComments, member); len(list) != 0 {
		t.Errorf("hidden comments are listed: %+v", list)
	}
	var n int
	if err := s.store.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'comment.hide'
		AND object IN ($1, $2)`, "comment:"+strconv.FormatInt(c1.ID, 10), "comment:"+strconv.FormatInt(c2.ID, 10)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("audit events for hiding: %d, want 2", n)
	}
	// The notifications no longer quote the hidden comments.
	var quotes, told int
	if err := s.store.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE comment <> ''), count(*) FROM notifications
		WHERE kind = 'comment.created'`).Scan(&quotes, &told); err != nil {
		t.Fatal(err)
	}
	if told != 2 || quotes != 0 {
		t.Errorf("%d notifications, %d still quoting a hidden comment; want 2 and 0", told, quotes)
	}
	// A hidden comment with a reply stays as a placeholder above it.
	_, top := postComment(t, s, networkComments, member, `{"body":"Beleidigend"}`)
	postComment(t, s, networkComments, luebeckAdmin, `{"body":"Bitte sachlich","parent":`+strconv.FormatInt(top.ID, 10)+`}`)
	formPost(s, hide(top), luebeckAdmin, nil)
	list := listComments(t, s, networkComments, member)
	if len(list) != 2 || !list[0].Removed || list[0].Body != "" || list[1].Body != "Bitte sachlich" {
		t.Errorf("thread with a hidden top: %+v", list)
	}
	page := send(s, "GET", "/c/luebeck/netzwerkbericht", member, "", "").Body.String()
	if strings.Contains(page, "Beleidigend") || !strings.Contains(page, s.catalogs["de"]["comments.removed"]) {
		t.Errorf("the page shows a hidden comment")
	}
}

// Watchers and authors of the article hear of a comment, unless they may
// not read the article; the writer does not hear of their own.
func TestCommentNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, commentItems...)
	writer := account(t, s, "schreiberin", "author", "luebeck")
	account(t, s, "beobachter", "author", "luebeck")
	account(t, s, "fremder", "author", "rostock")
	author := account(t, s, "verfasserin", "author", "luebeck")
	reviewer := account(t, s, "pruefer", "reviewer", "luebeck")
	pool := s.store.Pool()
	// Both watch the city-only article (the Rostock author from before it
	// became city-only); Verfasserin wrote it; the writer watches too.
	if _, err := pool.Exec(ctx, `INSERT INTO watches (user_id, article_id)
		SELECT u.id, a.id FROM users u, articles a WHERE u.username IN ('beobachter', 'fremder', 'schreiberin') AND a.slug = 'stadtintern'`); err != nil {
		t.Fatal(err)
	}
	// Verfasserin's change to it is published.
	var art struct{ Revision int64 }
	json.Unmarshal(send(s, "GET", "/api/v1/articles/luebeck/stadtintern", author, "", "").Body.Bytes(), &art)
	rec := send(s, "POST", "/api/v1/changes", author, "application/json",
		`{"city":"luebeck","slug":"stadtintern","base_revision":`+strconv.FormatInt(art.Revision, 10)+
			`,"title":"Stadtintern","body":"Nur Lübeck, ergänzt.","summary":"Ergänzt","visibility":"city","submit":true}`)
	var change struct{ ID int64 }
	if json.Unmarshal(rec.Body.Bytes(), &change); rec.Code != 201 {
		t.Fatalf("change: %d %s", rec.Code, rec.Body)
	}
	if rec := send(s, "POST", "/api/v1/changes/"+strconv.FormatInt(change.ID, 10)+"/approve", reviewer, "application/json", `{}`); rec.Code != 200 {
		t.Fatalf("approve: %d %s", rec.Code, rec.Body)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM notifications`); err != nil {
		t.Fatal(err)
	}
	// With mail configured, those told who have an address get a mail.
	s.workflow.Mail = &workflow.MailSettings{Host: "localhost", From: "wiki@example.org", BaseURL: "https://wiki.example.org"}
	if _, err := pool.Exec(ctx, `UPDATE users SET email = username || '@example.org' WHERE username IN ('beobachter', 'fremder', 'schreiberin')`); err != nil {
		t.Fatal(err)
	}
	if code, _ := postComment(t, s, cityComments, writer, `{"body":"Wer hat Erfahrung damit?"}`); code != 201 {
		t.Fatalf("comment: %d", code)
	}
	told := map[string]int{}
	rows, _ := pool.Query(ctx, `SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.kind = 'comment.created'`)
	for rows.Next() {
		var name string
		rows.Scan(&name)
		told[name]++
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if told["beobachter"] != 1 || told["verfasserin"] != 1 || told["fremder"] != 0 || told["schreiberin"] != 0 || len(told) != 2 {
		t.Errorf("notified: %v, want beobachter and verfasserin once each", told)
	}
	var to, body string
	if err := pool.QueryRow(ctx, `SELECT string_agg(to_addr, ','), min(body) FROM mail_queue`).Scan(&to, &body); err != nil {
		t.Fatal(err)
	}
	if to != "beobachter@example.org" || !strings.Contains(body, "> Wer hat Erfahrung damit?") ||
		!strings.Contains(body, "https://wiki.example.org/c/luebeck/stadtintern#comments-title") {
		t.Errorf("mail to %q: %s", to, body)
	}
	// The notification centre names the article and links to the discussion.
	tok := tokenOf(t, s, "beobachter")
	page := send(s, "GET", "/notifications", tok, "", "").Body.String()
	if !strings.Contains(page, "Stadtintern") || !strings.Contains(page, "/c/luebeck/stadtintern#comments-title") {
		t.Errorf("the notification centre does not show the comment: %s", page)
	}
}

// tokenOf makes a personal token for an existing account.
func tokenOf(t *testing.T, s *Server, username string) string {
	t.Helper()
	var id int64
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.auth.CreateToken(context.Background(), id, "personal", "test", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A comment goes through the articles' sanitizer, and its links show no
// title that some reader of the article may not read.
func TestCommentsAreSanitizedAndRevealNoTitles(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, commentItems...)
	luebeck := account(t, s, "luebecker", "author", "luebeck")
	body, _ := json.Marshal(map[string]string{"body": "<script>alert(1)</script>\n\n**fett** [[luebeck/geheim]] [x](javascript:alert(3)) <img src=x onerror=alert(2)>"})
	code, c := postComment(t, s, networkComments, luebeck, string(body))
	if code != 201 {
		t.Fatalf("comment: %d", code)
	}
	for _, html := range []string{c.HTML, listComments(t, s, networkComments, luebeck)[0].HTML,
		send(s, "GET", "/c/luebeck/netzwerkbericht", luebeck, "", "").Body.String()} {
		for _, bad := range []string{"<script>alert", "<img src=x onerror", "onerror=\"", `href="javascript:`, "Geheimer Haushaltsplan"} {
			if strings.Contains(html, bad) {
				t.Errorf("rendering contains %q", bad)
			}
		}
	}
	if !strings.Contains(c.HTML, "<strong>fett</strong>") {
		t.Errorf("Markdown not rendered: %s", c.HTML)
	}
	// Below a Lübeck-only article every reader may know the title.
	if _, c := postComment(t, s, cityComments, luebeck, `{"body":"Siehe [[luebeck/geheim]]"}`); !strings.Contains(c.HTML, "Geheimer Haushaltsplan") {
		t.Errorf("a city-only link below a city-only article: %s", c.HTML)
	}
}

// Two readers with the same roles share the rendering of an article page;
// only a comment's author sees its edit and delete controls, and only
// while the window lasts. Only the city's admin sees the hide button.
func TestCommentControlsArePersonal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, commentItems...)
	anna := account(t, s, "anna", "author", "luebeck")
	bernd := account(t, s, "bernd", "author", "luebeck")
	admin := account(t, s, "stadtadmin", "admin", "luebeck")
	_, c := postComment(t, s, networkComments, anna, `{"body":"Meine Meinung"}`)
	const path = "/c/luebeck/netzwerkbericht"
	edit := `/comments/` + strconv.FormatInt(c.ID, 10) + `/edit`
	hide := path + `/comments/` + strconv.FormatInt(c.ID, 10) + `/hide`
	// Bernd fills the cache first.
	for _, who := range []struct {
		name, token string
		edit, hide  bool
	}{{"bernd", bernd, false, false}, {"anna", anna, true, false}, {"bernd again", bernd, false, false}, {"admin", admin, false, true}} {
		rec := send(s, "GET", path, who.token, "", "")
		page := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(page, "Meine Meinung") {
			t.Fatalf("%s: %d", who.name, rec.Code)
		}
		if strings.Contains(page, edit) != who.edit {
			t.Errorf("%s sees the edit form: %v, want %v", who.name, !who.edit, who.edit)
		}
		if strings.Contains(page, hide) != who.hide {
			t.Errorf("%s sees the hide form: %v, want %v", who.name, !who.hide, who.hide)
		}
		if markerPattern.MatchString(page) {
			t.Errorf("%s: an unfilled marker", who.name)
		}
	}
	if _, err := s.store.Pool().Exec(ctx, `UPDATE article_comments SET created_at = now() - interval '16 minutes' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	// Written outside a request: wait, as a request would, until the
	// server heard it (its caches follow the trigger's notification).
	s.opts.Barrier.Sync(ctx)
	if page := send(s, "GET", path, anna, "", "").Body.String(); strings.Contains(page, edit) {
		t.Errorf("the author still sees the edit form after 16 minutes")
	}
	// A new comment shows on the next request although the page was cached.
	postComment(t, s, networkComments, bernd, `{"body":"Neue Sicht"}`)
	if page := send(s, "GET", path, anna, "", "").Body.String(); !strings.Contains(page, "Neue Sicht") {
		t.Errorf("a new comment is missing from the cached page")
	}
}

// With a session, the forms work as a browser uses them: a comment, a
// reply and an edit through the page's forms, each with the CSRF token the
// page (or its personal part) carries; without the token nothing is
// written.
func TestCommentFormsWithASession(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, commentItems...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	account(t, s, "anna", "author", "luebeck")
	c := signIn(t, srv.URL, "anna")
	const path = "/c/luebeck/netzwerkbericht"
	get := func() string {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(target string, v url.Values) int {
		t.Helper()
		resp, err := c.PostForm(srv.URL+target, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	page := get()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the article page")
	}
	if code := post(path+"/comments", url.Values{"body": {"Ohne Token"}}); code != 403 {
		t.Errorf("a comment without CSRF token: %d, want 403", code)
	}
	if code := post(path+"/comments", url.Values{"csrf_token": {m[1]}, "body": {"Mit Token"}}); code != 200 {
		t.Errorf("a comment (after its redirect): %d", code)
	}
	page = get()
	if strings.Contains(page, "Ohne Token") || !strings.Contains(page, "Mit Token") {
		t.Fatalf("the page after commenting")
	}
	edit := regexp.MustCompile(`action="(/comments/[0-9]+/edit)"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if edit == nil || edit[2] != m[1] {
		t.Fatalf("the author's edit form lacks its CSRF token: %v", edit)
	}
	if code := post(edit[1], url.Values{"csrf_token": {edit[2]}, "body": {"Mit Token, korrigiert"}}); code != 200 {
		t.Errorf("the edit (after its redirect): %d", code)
	}
	if page = get(); !strings.Contains(page, "Mit Token, korrigiert") || !strings.Contains(page, "</span> "+s.catalogs["de"]["comments.edited"]+"</p>") {
		t.Errorf("the page after the edit")
	}
}
