package views

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

var questionItems = append(slices.Clone(sampleItems),
	wiki.ImportItem{Source: "c", Draft: wiki.Draft{City: "rostock", Title: "Geheimer Rostocker Plan", Visibility: wiki.CityVis,
		Topics: []string{"mobilitaet"}, Body: "Nur für Rostock."}})

func getPage(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.500s", target, resp.StatusCode, b)
	}
	return string(b)
}

func decodeQuestion(t *testing.T, rec interface{ Result() *http.Response }, body string) workflow.Question {
	t.Helper()
	var q workflow.Question
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return q
}

// notified lists who was told about question qid, by user name.
func notified(t *testing.T, s *Server, qid int64) []string {
	t.Helper()
	rows, err := s.store.Pool().Query(context.Background(), `SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.question_id = $1 AND n.kind = 'question.created' ORDER BY u.username`, qid)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func TestQuestionsAreForMembersOnly(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	member := account(t, s, "mitglied")
	for _, c := range []struct{ method, target, body string }{
		{"GET", "/api/v1/questions", ""},
		{"POST", "/api/v1/questions", `{"title":"T","topics":["mobilitaet"]}`},
		{"GET", "/api/v1/questions/1", ""},
		{"POST", "/api/v1/questions/1/answers", `{"body":"x"}`},
		{"POST", "/api/v1/questions/1/answers/1/helpful", ""},
	} {
		if rec := send(s, c.method, c.target, "", "application/json", c.body); rec.Code != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d", c.method, c.target, rec.Code)
		}
	}
	rec := send(s, "POST", "/api/v1/questions", member, "application/json",
		`{"title":"Wer hat Erfahrung mit Quartiersbussen?","body":"Wir planen *einen*.","topics":["mobilitaet"]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("ask: %d %s", rec.Code, rec.Body)
	}
	q := decodeQuestion(t, rec, rec.Body.String())
	if q.Author != "mitglied" || !slices.Equal(q.Topics, []string{"mobilitaet"}) || q.Cities == nil || q.Answers == nil {
		t.Fatalf("question: %+v", q)
	}
	if rec := send(s, "GET", "/api/v1/questions/"+strconv.FormatInt(q.ID, 10), member, "", ""); rec.Code != http.StatusOK {
		t.Fatalf("get: %d", rec.Code)
	}
	// The pages: anonymous visitors are sent to the login page.
	for _, target := range []string{"/questions", "/questions/" + strconv.FormatInt(q.ID, 10)} {
		rec := do(t, s, "GET", target)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("anonymous %s: %d %s", target, rec.Code, rec.Header().Get("Location"))
		}
	}
	// Invalid questions are refused.
	for _, body := range []string{`{"title":"","topics":["mobilitaet"]}`, `{"title":"T","topics":[]}`,
		`{"title":"T","topics":["gibt-es-nicht"]}`, `{"title":"T","topics":["mobilitaet"],"cities":["nirgendwo"]}`} {
		if rec := send(s, "POST", "/api/v1/questions", member, "application/json", body); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", body, rec.Code)
		}
	}
	long := `{"title":"T","topics":["mobilitaet"],"body":"` + strings.Repeat("x", workflow.MaxQuestionBody+1) + `"}`
	if rec := send(s, "POST", "/api/v1/questions", member, "application/json", long); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("long body: %d", rec.Code)
	}
}

func TestQuestionsReachTheAskedCitiesAndTopicWatchers(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	asker := account(t, s, "fragerin", "author", "luebeck")
	account(t, s, "autor-hl", "author", "luebeck")
	account(t, s, "pruefer-hro", "reviewer", "rostock")
	account(t, s, "autor-sn", "author", "schwerin")
	account(t, s, "netzadmin", "admin", "*")
	account(t, s, "beobachter")
	account(t, s, "unbeteiligt")
	ctx := context.Background()
	watcher, err := s.auth.TokenIdentity(ctx, account(t, s, "themenfan"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.workflow.WatchTopic(ctx, watcher, "mobilitaet", true); err != nil {
		t.Fatal(err)
	}
	other, _ := s.auth.TokenIdentity(ctx, account(t, s, "andersfan"))
	if err := s.workflow.WatchTopic(ctx, other, "klimaresilienz", true); err != nil {
		t.Fatal(err)
	}

	ask := func(body string) int64 {
		t.Helper()
		rec := send(s, "POST", "/api/v1/questions", asker, "application/json", body)
		if rec.Code != http.StatusCreated {
			t.Fatalf("ask: %d %s", rec.Code, rec.Body)
		}
		return decodeQuestion(t, rec, rec.Body.String()).ID
	}
	// Rostock asked: its reviewer and the topic's watcher; not Lübeck's
	// author, not the asker, not a network admin without a role there.
	q1 := ask(`{"title":"Erfahrung mit Rufbussen?","topics":["mobilitaet"],"cities":["rostock"]}`)
	if got, want := notified(t, s, q1), []string{"pruefer-hro", "themenfan"}; !slices.Equal(got, want) {
		t.Errorf("named city: notified %v, want %v", got, want)
	}
	// No city named: the authors and reviewers of every city.
	q2 := ask(`{"title":"Wer hat Erfahrung mit Sensorik?","topics":["stadtdaten"]}`)
	if got, want := notified(t, s, q2), []string{"autor-hl", "autor-sn", "pruefer-hro"}; !slices.Equal(got, want) {
		t.Errorf("every city: notified %v, want %v", got, want)
	}
	// The watcher finds it among their notifications, with its title.
	list, err := s.workflow.Notifications(ctx, watcher, 10)
	if err != nil || len(list) != 1 || list[0].Title != "Erfahrung mit Rufbussen?" || list[0].QuestionID == nil {
		t.Fatalf("watcher's notifications: %+v %v", list, err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	fan := signIn(t, srv.URL, "themenfan")
	page := getPage(t, fan, srv.URL+"/notifications")
	if !strings.Contains(page, `href="/questions/`+strconv.FormatInt(q1, 10)+`"`) {
		t.Errorf("the notifications page does not link the question: %.3000s", page)
	}
	// Opening the question reads its notification.
	getPage(t, fan, srv.URL+"/questions/"+strconv.FormatInt(q1, 10))
	if list, err := s.workflow.Notifications(ctx, watcher, 10); err != nil || !list[0].Read {
		t.Errorf("the notification is still unread after opening the question: %+v %v", list, err)
	}
}

func TestAnswersLinkOnlyReadableArticlesAndOnlyTheAskerMarksHelpful(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	asker := account(t, s, "fragerin")
	rostocker := account(t, s, "rostocker", "author", "rostock")
	outsider := account(t, s, "aussenstehend")
	rec := send(s, "POST", "/api/v1/questions", asker, "application/json",
		`{"title":"Wer hat Erfahrung mit Rufbussen?","body":"**fett**\n\n<script>alert(1)</script> <a href=\"javascript:alert(2)\">x</a> <img src=x onerror=alert(3)>","topics":["mobilitaet"],"cities":["rostock"]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("ask: %d %s", rec.Code, rec.Body)
	}
	qid := strconv.FormatInt(decodeQuestion(t, rec, rec.Body.String()).ID, 10)

	// A member may not link an article they may not read (city-only in Rostock).
	if rec := send(s, "POST", "/api/v1/questions/"+qid+"/answers", outsider, "application/json",
		`{"body":"Siehe dort","articles":["rostock/geheimer-rostocker-plan"]}`); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("linking an unreadable article: %d %s", rec.Code, rec.Body)
	}
	if rec := send(s, "POST", "/api/v1/questions/"+qid+"/answers", outsider, "application/json",
		`{"body":"x","articles":["luebeck/gibt-es-nicht"]}`); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("linking a missing article: %d", rec.Code)
	}
	// The Rostock author links their city-only article and a public one.
	rec = send(s, "POST", "/api/v1/questions/"+qid+"/answers", rostocker, "application/json",
		`{"body":"Wir haben **Erfahrung**.","articles":["rostock/geheimer-rostocker-plan","luebeck/quartiersbus-in-luebeck"]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("answer: %d %s", rec.Code, rec.Body)
	}
	q := decodeQuestion(t, rec, rec.Body.String())
	if len(q.Answers) != 1 || !slices.Equal(q.Answers[0].Articles, []string{"rostock/geheimer-rostocker-plan", "luebeck/quartiersbus-in-luebeck"}) {
		t.Fatalf("the answerer's view: %+v", q.Answers)
	}
	aid := strconv.FormatInt(q.Answers[0].ID, 10)
	// The asker (not in Rostock) sees only the public article, in API and page.
	rec = send(s, "GET", "/api/v1/questions/"+qid, asker, "", "")
	q = decodeQuestion(t, rec, rec.Body.String())
	if !slices.Equal(q.Answers[0].Articles, []string{"luebeck/quartiersbus-in-luebeck"}) {
		t.Errorf("the asker sees %v", q.Answers[0].Articles)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	askerClient := signIn(t, srv.URL, "fragerin")
	page := getPage(t, askerClient, srv.URL+"/questions/"+qid)
	if strings.Contains(page, "Geheimer Rostocker Plan") || strings.Contains(page, "geheimer-rostocker-plan") {
		t.Errorf("the page names an article the reader may not read")
	}
	if !strings.Contains(page, "Quartiersbus in Lübeck") || !strings.Contains(page, "<strong>Erfahrung</strong>") {
		t.Errorf("the page lacks the readable link or the rendered answer")
	}
	// Markdown goes through the articles' sanitizer.
	for _, bad := range []string{"<script>alert(1)", "javascript:alert", "onerror"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page carries %q", bad)
		}
	}
	if !strings.Contains(page, "<strong>fett</strong>") {
		t.Errorf("the question's Markdown is not rendered")
	}
	// The Rostock author's page shows both, with titles.
	page = getPage(t, signIn(t, srv.URL, "rostocker"), srv.URL+"/questions/"+qid)
	if !strings.Contains(page, "Geheimer Rostocker Plan") {
		t.Errorf("the answerer does not see the article they linked")
	}
	if strings.Contains(page, "/helpful") {
		t.Errorf("someone other than the asker is offered the helpful button")
	}

	// Only the asker marks helpful.
	for _, tok := range []string{rostocker, outsider} {
		if rec := send(s, "POST", "/api/v1/questions/"+qid+"/answers/"+aid+"/helpful", tok, "application/json", ""); rec.Code != http.StatusForbidden {
			t.Errorf("helpful by another member: %d", rec.Code)
		}
	}
	if rec := send(s, "POST", "/api/v1/questions/"+qid+"/answers/999999/helpful", asker, "application/json", ""); rec.Code != http.StatusNotFound {
		t.Errorf("helpful for a missing answer: %d", rec.Code)
	}
	open := func(query string) int {
		t.Helper()
		rec := send(s, "GET", "/api/v1/questions?"+query, outsider, "", "")
		var list []workflow.Question
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
		}
		return len(list)
	}
	if rec := send(s, "GET", "/api/v1/questions?open=vielleicht", outsider, "", ""); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("open=vielleicht: %d", rec.Code)
	}
	if open("open=true&topic=mobilitaet") != 1 || open("open=true&city=rostock") != 1 || open("city=luebeck") != 0 || open("topic=energie") != 0 {
		t.Errorf("open questions per topic and city are wrong")
	}
	// The topic page and the city portal list the open question to members.
	outsiderClient := signIn(t, srv.URL, "aussenstehend")
	for _, target := range []string{"/topics/mobilitaet", "/c/rostock"} {
		if page := getPage(t, outsiderClient, srv.URL+target); !strings.Contains(page, "Wer hat Erfahrung mit Rufbussen?") {
			t.Errorf("%s does not list the open question", target)
		}
		if page := getPage(t, http.DefaultClient, srv.URL+target); strings.Contains(page, "Rufbussen") {
			t.Errorf("%s shows the question to an anonymous visitor", target)
		}
	}
	if page := getPage(t, outsiderClient, srv.URL+"/c/luebeck"); strings.Contains(page, "Rufbussen") {
		t.Errorf("Lübeck's portal lists a question to Rostock")
	}
	// The asker marks the answer helpful on the page; the question is no longer open.
	page = getPage(t, askerClient, srv.URL+"/questions/"+qid)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the question page")
	}
	resp, err := askerClient.PostForm(srv.URL+"/questions/"+qid+"/answers/"+aid+"/helpful", url.Values{"csrf_token": {m[1]}, "helpful": {"on"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("marking helpful on the page: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
	if open("open=true&topic=mobilitaet") != 0 || open("topic=mobilitaet") != 1 {
		t.Errorf("a question with a helpful answer is still open")
	}
	if page := getPage(t, outsiderClient, srv.URL+"/topics/mobilitaet"); strings.Contains(page, "Rufbussen") {
		t.Errorf("the topic page still lists the answered question (cache not flushed)")
	}
}

// The ask form and the topic watch toggle work as pages, with CSRF.
func TestQuestionFormsAndTopicWatch(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	account(t, s, "fragerin")
	account(t, s, "themenfan")
	srv := httptest.NewServer(s)
	defer srv.Close()
	fan := signIn(t, srv.URL, "themenfan")
	page := getPage(t, fan, srv.URL+"/topics/energie")
	m := csrfField.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `action="/topics/energie/watch"`) || !strings.Contains(page, "Thema beobachten") {
		t.Fatalf("no watch form: %.2000s", page)
	}
	if resp, err := fan.PostForm(srv.URL+"/topics/energie/watch", url.Values{"watch": {"on"}}); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("watching without CSRF: %v %v", err, resp.StatusCode)
	}
	resp, err := fan.PostForm(srv.URL+"/topics/energie/watch", url.Values{"csrf_token": {m[1]}, "watch": {"on"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); resp.Request.URL.Path != "/topics/energie" || !strings.Contains(string(b), "über neue Fragen zu diesem Thema benachrichtigt") {
		t.Errorf("after watching: %s without the message", resp.Request.URL.Path)
	}
	resp.Body.Close()
	if page := getPage(t, fan, srv.URL+"/topics/energie"); !strings.Contains(page, "Thema nicht mehr beobachten") ||
		strings.Count(page, "über neue Fragen zu diesem Thema benachrichtigt") != 0 {
		t.Errorf("the topic page does not show that the reader watches it")
	}
	if page := getPage(t, signIn(t, srv.URL, "fragerin"), srv.URL+"/topics/energie"); !strings.Contains(page, "Thema beobachten") || strings.Contains(page, "nicht mehr beobachten") {
		t.Errorf("another member sees the watcher's state")
	}
	asker := signIn(t, srv.URL, "fragerin")
	page = getPage(t, asker, srv.URL+"/questions")
	m = csrfField.FindStringSubmatch(page)
	resp, err = asker.PostForm(srv.URL+"/questions", url.Values{"csrf_token": {m[1]}, "title": {"Wer hat Erfahrung mit Solardächern?"},
		"body": {"Bitte melden."}, "topics": {"energie"}})
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/questions/") {
		t.Fatalf("ask on the page: %v %v", err, resp.Request.URL)
	}
	qpath := resp.Request.URL.Path
	resp.Body.Close()
	// The watcher answers on the page; an article they may not read is
	// refused with the text kept, a readable one is linked.
	token := csrfField.FindStringSubmatch(getPage(t, fan, srv.URL+qpath))[1]
	resp, err = fan.PostForm(srv.URL+qpath+"/answers", url.Values{"csrf_token": {token}, "body": {"Unser Dach in Rostock"},
		"articles": {"rostock/geheimer-rostocker-plan"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "Unser Dach in Rostock") || strings.Contains(string(b), "Geheimer Rostocker Plan") {
		t.Errorf("answer linking an unreadable article: %d", resp.StatusCode)
	}
	resp, err = fan.PostForm(srv.URL+qpath+"/answers", url.Values{"csrf_token": {token}, "body": {"Siehe Lübeck"},
		"articles": {"luebeck/quartiersbus-in-luebeck"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Siehe Lübeck") || !strings.Contains(string(b), `href="/c/luebeck/quartiersbus-in-luebeck"`) {
		t.Errorf("answer on the page: %d", resp.StatusCode)
	}
	if page := getPage(t, fan, srv.URL+"/notifications"); !strings.Contains(page, "Wer hat Erfahrung mit Solardächern?") {
		t.Errorf("the topic's watcher was not told")
	}
	// A question without a topic is refused on the page, the text kept.
	resp, err = asker.PostForm(srv.URL+"/questions", url.Values{"csrf_token": {m[1]}, "title": {"Ohne Thema?"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "Ohne Thema?") || !strings.Contains(string(b), "mindestens ein Thema") {
		t.Errorf("a question without topic: %d", resp.StatusCode)
	}
}

// Members find questions on the search page and through the API; anonymous
// visitors do not.
func TestQuestionsAreFoundBySearch(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	asker := account(t, s, "fragerin")
	account(t, s, "leserin")
	if rec := send(s, "POST", "/api/v1/questions", asker, "application/json",
		`{"title":"Wer hat Erfahrung mit Lastenrädern?","body":"Verleih 100% kommunal","topics":["mobilitaet"]}`); rec.Code != http.StatusCreated {
		t.Fatalf("ask: %d", rec.Code)
	}
	var list []workflow.Question
	rec := send(s, "GET", "/api/v1/questions?q=LASTENRÄDER", asker, "", "")
	if json.Unmarshal(rec.Body.Bytes(), &list); len(list) != 1 {
		t.Errorf("q=LASTENRÄDER: %s", rec.Body)
	}
	rec = send(s, "GET", "/api/v1/questions?q=50%25", asker, "", "")
	if json.Unmarshal(rec.Body.Bytes(), &list); len(list) != 0 {
		t.Errorf("a %% in the text is a wildcard: %s", rec.Body)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	if page := getPage(t, signIn(t, srv.URL, "leserin"), srv.URL+"/search?q=Lastenr%C3%A4dern"); !strings.Contains(page, "Wer hat Erfahrung mit Lastenrädern?") {
		t.Errorf("the search page does not find the question")
	}
	resp, err := http.Get(srv.URL + "/search?q=Lastenr%C3%A4dern")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "Lastenrädern?") {
		t.Errorf("an anonymous search shows the question")
	}
}

// With mail configured, a question's recipients with an address get it in
// the mail queue, linking the question; the asker's answerers tell them.
func TestQuestionNotificationsAreMailed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	s.workflow.Mail = &workflow.MailSettings{Host: "mail.invalid", Port: "25", From: "wiki@example.org", BaseURL: "https://wiki.example.org"}
	ctx := context.Background()
	if _, err := s.auth.CreateUser(ctx, auth.NewUser{Username: "pruefer", Email: "pruefer@example.org", Password: "correct horse battery"}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.auth.Grant(ctx, "pruefer", "reviewer", "rostock", "test"); err != nil {
		t.Fatal(err)
	}
	asker := account(t, s, "fragerin")
	rec := send(s, "POST", "/api/v1/questions", asker, "application/json", `{"title":"Wer kennt Pegelsensoren?","topics":["wasser-umwelt"],"cities":["rostock"]}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("ask: %d", rec.Code)
	}
	id := decodeQuestion(t, rec, rec.Body.String()).ID
	var to, subject, body string
	err := s.store.Pool().QueryRow(ctx, `SELECT to_addr, subject, body FROM mail_queue`).Scan(&to, &subject, &body)
	if err != nil || to != "pruefer@example.org" || !strings.Contains(subject, "Wer kennt Pegelsensoren?") ||
		!strings.Contains(body, "https://wiki.example.org/questions/"+strconv.FormatInt(id, 10)) {
		t.Errorf("mail: %v %q %q %q", err, to, subject, body)
	}
	var audited int
	s.store.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE object = $1 AND action = 'question.create'`, "question:"+strconv.FormatInt(id, 10)).Scan(&audited)
	if audited != 1 {
		t.Errorf("the question is not audited")
	}
}

// The question API's answers conform to the schemas the document promises.
func TestQuestionResponsesMatchOpenAPISchemas(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	doc := loadOpenAPI(t)
	token := account(t, s, "mitglied")
	rec := send(s, "POST", "/api/v1/questions", token, "application/json", `{"title":"Wer weiß es?","topics":["energie"],"cities":["luebeck"]}`)
	q := decodeQuestion(t, rec, rec.Body.String())
	id := strconv.FormatInt(q.ID, 10)
	rec = send(s, "POST", "/api/v1/questions/"+id+"/answers", token, "application/json", `{"body":"Ich","articles":["luebeck/quartiersbus-in-luebeck"]}`)
	aid := strconv.FormatInt(decodeQuestion(t, rec, rec.Body.String()).Answers[0].ID, 10)
	for _, c := range []struct {
		method, target, path, body string
		status                     int
	}{
		{"GET", "/api/v1/questions?open=true", "/questions", "", 200},
		{"GET", "/api/v1/questions/" + id, "/questions/{id}", "", 200},
		{"GET", "/api/v1/questions/999999", "/questions/{id}", "", 404},
		{"POST", "/api/v1/questions", "/questions", `{"title":"Noch eine?","topics":["energie"]}`, 201},
		{"POST", "/api/v1/questions/" + id + "/answers", "/questions/{id}/answers", `{"body":"Auch"}`, 201},
		{"POST", "/api/v1/questions/" + id + "/answers/" + aid + "/helpful", "/questions/{id}/answers/{aid}/helpful", `{"helpful":true}`, 200},
	} {
		rec := send(s, c.method, c.target, token, "application/json", c.body)
		if rec.Code != c.status {
			t.Errorf("%s %s = %d, want %d: %s", c.method, c.target, rec.Code, c.status, rec.Body)
			continue
		}
		var op operation
		if err := json.Unmarshal(doc.Paths[c.path][strings.ToLower(c.method)], &op); err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		resp := op.Responses[strconv.Itoa(c.status)]
		sc := resp.Content["application/json"].Schema
		if resp.Ref != "" {
			sc = doc.Components.Responses[strings.TrimPrefix(resp.Ref, "#/components/responses/")].Content["application/json"].Schema
		}
		var body any
		json.Unmarshal(rec.Body.Bytes(), &body)
		if err := doc.validate(sc, body, "$"); err != nil {
			t.Errorf("%s %s: %v\n%s", c.method, c.target, err, rec.Body)
		}
	}
}
