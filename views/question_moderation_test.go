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
	"time"

	"hansewiki/workflow"
)

// qcall is one API request of the question moderation tests.
type qcall struct {
	name, method, target, token, body string
	status                            int
}

func checkCalls(t *testing.T, s *Server, calls []qcall) {
	t.Helper()
	for _, c := range calls {
		if rec := send(s, c.method, c.target, c.token, "application/json", c.body); rec.Code != c.status {
			t.Errorf("%s: %s %s = %d, want %d: %s", c.name, c.method, c.target, rec.Code, c.status, rec.Body)
		}
	}
}

func askQuestion(t *testing.T, s *Server, token, body string) (workflow.Question, string) {
	t.Helper()
	rec := send(s, "POST", "/api/v1/questions", token, "application/json", body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("ask: %d %s", rec.Code, rec.Body)
	}
	q := decodeQuestion(t, rec, rec.Body.String())
	return q, "/api/v1/questions/" + strconv.FormatInt(q.ID, 10)
}

func getQuestion(t *testing.T, s *Server, target, token string) workflow.Question {
	t.Helper()
	rec := send(s, "GET", target, token, "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	return decodeQuestion(t, rec, rec.Body.String())
}

func openQuestionIDs(t *testing.T, s *Server, token string) []int64 {
	t.Helper()
	rec := send(s, "GET", "/api/v1/questions?open=true", token, "", "")
	var list []workflow.Question
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	var ids []int64
	for _, q := range list {
		ids = append(ids, q.ID)
	}
	return ids
}

// The asker edits a question until it is answered; the cities and topics
// it adds are told, nobody twice. An answer's author edits it for 15
// minutes. Nobody else edits either.
func TestQuestionAndAnswerEditRules(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, questionItems...)
	asker := account(t, s, "fragerin", "author", "luebeck")
	other := account(t, s, "mitglied")
	answerer := account(t, s, "antworter")
	luebeckAdmin := account(t, s, "hladmin", "admin", "luebeck")
	netAdmin := account(t, s, "netzadmin", "admin", "*")
	account(t, s, "autor-hl", "author", "luebeck")
	account(t, s, "autor-hro", "author", "rostock")
	q, target := askQuestion(t, s, asker, `{"title":"Wer hat Erfahrung mit Quartiersbussen?","topics":["mobilitaet"],"cities":["luebeck"]}`)
	if !q.Can.Edit || !q.Can.Close || q.Can.Hide || !q.Can.Answer {
		t.Errorf("the asker's capabilities: %+v", q.Can)
	}
	if k := getQuestion(t, s, target, other).Can; k.Edit || k.Close || k.Hide || !k.Answer {
		t.Errorf("another member's capabilities: %+v", k)
	}
	edit := `{"title":"Wer hat Erfahrung mit Rufbussen?","body":"Neu","topics":["mobilitaet"],"cities":["luebeck","rostock"]}`
	checkCalls(t, s, []qcall{
		{"anonymous edits", "PATCH", target, "", edit, 401},
		{"another member edits", "PATCH", target, other, edit, 403},
		{"the city's admin edits", "PATCH", target, luebeckAdmin, edit, 403},
		{"a network admin edits", "PATCH", target, netAdmin, edit, 403},
		{"an edit without topic", "PATCH", target, asker, `{"title":"T","topics":[]}`, 422},
		{"an edit naming an unknown city", "PATCH", target, asker, `{"title":"T","topics":["mobilitaet"],"cities":["atlantis"]}`, 422},
		{"editing a missing question", "PATCH", "/api/v1/questions/999999", asker, edit, 404},
	})
	rec := send(s, "PATCH", target, asker, "application/json", edit)
	if rec.Code != 200 {
		t.Fatalf("the asker edits: %d %s", rec.Code, rec.Body)
	}
	if q := decodeQuestion(t, rec, rec.Body.String()); q.Title != "Wer hat Erfahrung mit Rufbussen?" || !q.Edited ||
		!slices.Equal(q.Cities, []string{"luebeck", "rostock"}) {
		t.Errorf("after the edit: %+v", q)
	}
	// Rostock's author hears of it now; Lübeck's people were told once, on
	// asking (a row per notification: nobody twice).
	if got := notified(t, s, q.ID); !slices.Equal(got, []string{"autor-hl", "autor-hro", "hladmin"}) {
		t.Errorf("told of the question: %v", got)
	}
	// Once answered, the question stays as it was asked.
	rec = send(s, "POST", target+"/answers", answerer, "application/json", `{"body":"Wir fahren seit 2023.","articles":["luebeck/quartiersbus-in-luebeck"]}`)
	if rec.Code != 201 {
		t.Fatalf("answer: %d %s", rec.Code, rec.Body)
	}
	answered := decodeQuestion(t, rec, rec.Body.String())
	a := answered.Answers[0]
	if !a.Can.Edit || a.Can.Hide || a.Can.Helpful || answered.Can.Edit {
		t.Errorf("the answerer's capabilities: question %+v, answer %+v", answered.Can, a.Can)
	}
	answerTarget := target + "/answers/" + strconv.FormatInt(a.ID, 10)
	_, elsewhere := askQuestion(t, s, other, `{"title":"Andere Frage","topics":["energie"]}`)
	checkCalls(t, s, []qcall{
		{"the asker edits an answered question", "PATCH", target, asker, edit, 403},
		{"the asker edits the answer", "PATCH", answerTarget, asker, `{"body":"Anders"}`, 403},
		{"another member edits the answer", "PATCH", answerTarget, other, `{"body":"Anders"}`, 403},
		{"the network admin edits the answer", "PATCH", answerTarget, netAdmin, `{"body":"Anders"}`, 403},
		{"anonymous edits the answer", "PATCH", answerTarget, "", `{"body":"Anders"}`, 401},
		{"the answer through another question", "PATCH", elsewhere + "/answers/" + strconv.FormatInt(a.ID, 10), answerer, `{"body":"Anders"}`, 404},
		{"an empty answer", "PATCH", answerTarget, answerer, `{"body":" "}`, 422},
		{"a link to an article the answerer may not read", "PATCH", answerTarget, answerer, `{"body":"x","articles":["rostock/geheimer-rostocker-plan"]}`, 422},
	})
	rec = send(s, "PATCH", answerTarget, answerer, "application/json", `{"body":"Wir fahren seit 2022.","articles":[]}`)
	if rec.Code != 200 {
		t.Fatalf("the author edits the answer: %d %s", rec.Code, rec.Body)
	}
	if got := decodeQuestion(t, rec, rec.Body.String()).Answers[0]; got.Body != "Wir fahren seit 2022." || !got.Edited || len(got.Articles) != 0 {
		t.Errorf("after editing the answer: %+v", got)
	}
	// 16 minutes later the answer is the author's no longer.
	s.workflow.Skew(16 * time.Minute)
	rec = send(s, "PATCH", answerTarget, answerer, "application/json", `{"body":"Zu spät"}`)
	if e := apiErrorOf(t, rec.Body.Bytes()); rec.Code != 403 || !strings.Contains(e.Message, "15m") {
		t.Errorf("an answer edit after 16 minutes: %d %+v", rec.Code, e)
	}
	if k := getQuestion(t, s, target, answerer).Answers[0].Can; k.Edit {
		t.Errorf("the answerer may still edit after 16 minutes: %+v", k)
	}
	var n int
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events
		WHERE action IN ('question.edit', 'question.answer_edit') AND object = $1`, "question:"+strconv.FormatInt(q.ID, 10)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("audited edits: %d, want 2", n)
	}
}

// The asker and the question's moderators close and reopen it; closed, it
// leaves the open lists and takes no answers. Moderators — network admins
// and admins of a city asked — hide questions and answers; a hidden one is
// gone for everybody.
func TestQuestionClosingAndHiding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, questionItems...)
	asker := account(t, s, "fragerin")
	other := account(t, s, "mitglied")
	answerer := account(t, s, "antworter")
	luebeckAdmin := account(t, s, "hladmin", "admin", "luebeck")
	rostockAdmin := account(t, s, "hroadmin", "admin", "rostock")
	netAdmin := account(t, s, "netzadmin", "admin", "*")
	q1, t1 := askQuestion(t, s, asker, `{"title":"Frage an Lübeck","topics":["mobilitaet"],"cities":["luebeck"]}`)
	q2, t2 := askQuestion(t, s, asker, `{"title":"Frage an alle","topics":["mobilitaet"]}`)
	if page := send(s, "GET", "/notifications", luebeckAdmin, "", "").Body.String(); !strings.Contains(page, "Frage an Lübeck") {
		t.Fatalf("the city admin was not told of the question to their city")
	}
	checkCalls(t, s, []qcall{
		{"anonymous closes", "POST", t1 + "/close", "", "", 401},
		{"another member closes", "POST", t1 + "/close", other, "", 403},
		{"another city's admin closes", "POST", t1 + "/close", rostockAdmin, "", 403},
		{"a city admin closes a question to every city", "POST", t2 + "/close", luebeckAdmin, "", 403},
		{"a city admin hides a question to every city", "POST", t2 + "/hide", luebeckAdmin, "", 403},
	})
	if k := getQuestion(t, s, t1, luebeckAdmin).Can; !k.Close || !k.Hide || k.Edit {
		t.Errorf("the asked city's admin: %+v", k)
	}
	rec := send(s, "POST", t1+"/close", asker, "application/json", "")
	if q := decodeQuestion(t, rec, rec.Body.String()); rec.Code != 200 || !q.Closed || q.Open || q.Can.Answer || q.Can.Edit {
		t.Fatalf("the asker closes: %d %s", rec.Code, rec.Body)
	}
	if ids := openQuestionIDs(t, s, other); slices.Contains(ids, q1.ID) || !slices.Contains(ids, q2.ID) {
		t.Errorf("open questions after closing: %v", ids)
	}
	if page := send(s, "GET", "/topics/mobilitaet", other, "", "").Body.String(); strings.Contains(page, "Frage an Lübeck") || !strings.Contains(page, "Frage an alle") {
		t.Errorf("the topic page lists a closed question as open")
	}
	checkCalls(t, s, []qcall{{"answering a closed question", "POST", t1 + "/answers", answerer, `{"body":"Spät"}`, 422}})
	rec = send(s, "POST", t1+"/close", luebeckAdmin, "application/json", `{"closed":false}`)
	if q := decodeQuestion(t, rec, rec.Body.String()); rec.Code != 200 || q.Closed || !q.Open {
		t.Fatalf("the city admin reopens: %d %s", rec.Code, rec.Body)
	}
	if ids := openQuestionIDs(t, s, other); !slices.Contains(ids, q1.ID) {
		t.Errorf("a reopened question is not open: %v", ids)
	}

	// Answers: a helpful one settles the question until it is hidden.
	rec = send(s, "POST", t1+"/answers", answerer, "application/json", `{"body":"Kaufen Sie unsere Busse!"}`)
	a := decodeQuestion(t, rec, rec.Body.String()).Answers[0]
	at := t1 + "/answers/" + strconv.FormatInt(a.ID, 10)
	checkCalls(t, s, []qcall{{"the asker marks helpful", "POST", at + "/helpful", asker, "", 200}})
	if rec := send(s, "GET", "/api/v1/questions?q=Busse", other, "", ""); !strings.Contains(rec.Body.String(), "Frage an Lübeck") {
		t.Fatalf("the answer's words do not find its question: %s", rec.Body)
	}
	checkCalls(t, s, []qcall{
		{"the asker hides an answer", "POST", at + "/hide", asker, "", 403},
		{"its author hides an answer", "POST", at + "/hide", answerer, "", 403},
		{"another city's admin hides an answer", "POST", at + "/hide", rostockAdmin, "", 403},
		{"anonymous hides an answer", "POST", at + "/hide", "", "", 401},
	})
	rec = send(s, "POST", at+"/hide", luebeckAdmin, "application/json", "")
	if q := decodeQuestion(t, rec, rec.Body.String()); rec.Code != 200 || len(q.Answers) != 0 || !q.Open {
		t.Fatalf("the city admin hides the answer: %d %s", rec.Code, rec.Body)
	}
	for name, token := range map[string]string{"a member": other, "the asker": asker, "its author": answerer, "the admin": luebeckAdmin} {
		if q := getQuestion(t, s, t1, token); len(q.Answers) != 0 {
			t.Errorf("%s still sees the hidden answer", name)
		}
	}
	// Nor is it found by its words.
	if rec := send(s, "GET", "/api/v1/questions?q=Busse", other, "", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), "Frage an Lübeck") {
		t.Errorf("a hidden answer's words still find its question: %d %s", rec.Code, rec.Body)
	}
	checkCalls(t, s, []qcall{
		{"hiding the answer twice", "POST", at + "/hide", netAdmin, "", 404},
		{"marking a hidden answer helpful", "POST", at + "/helpful", asker, "", 404},
		{"its author edits a hidden answer", "PATCH", at, answerer, `{"body":"Doch"}`, 404},
	})

	// Questions: hidden by their moderators only, then gone.
	checkCalls(t, s, []qcall{
		{"the asker hides", "POST", t1 + "/hide", asker, "", 403},
		{"another member hides", "POST", t1 + "/hide", other, "", 403},
		{"another city's admin hides", "POST", t1 + "/hide", rostockAdmin, "", 403},
		{"anonymous hides", "POST", t1 + "/hide", "", "", 401},
		{"the asked city's admin hides", "POST", t1 + "/hide", luebeckAdmin, "", 204},
		{"a network admin hides a question to every city", "POST", t2 + "/hide", netAdmin, "", 204},
	})
	for name, token := range map[string]string{"a member": other, "the asker": asker, "the admin": luebeckAdmin, "a network admin": netAdmin} {
		checkCalls(t, s, []qcall{{name + " reads a hidden question", "GET", t1, token, "", 404}})
		if ids := openQuestionIDs(t, s, token); len(ids) != 0 {
			t.Errorf("%s lists hidden questions: %v", name, ids)
		}
	}
	checkCalls(t, s, []qcall{
		{"answering a hidden question", "POST", t1 + "/answers", answerer, `{"body":"x"}`, 404},
		{"closing a hidden question", "POST", t1 + "/close", asker, "", 404},
		{"hiding twice", "POST", t1 + "/hide", netAdmin, "", 404},
	})
	if page := send(s, "GET", "/questions?open=0", other, "", "").Body.String(); strings.Contains(page, "Frage an Lübeck") || strings.Contains(page, "Frage an alle") {
		t.Errorf("the questions page lists hidden questions")
	}
	// The city admin was told of the question as one of Lübeck's people;
	// hidden, it leaves their notifications.
	if page := send(s, "GET", "/notifications", luebeckAdmin, "", "").Body.String(); strings.Contains(page, "Frage an Lübeck") {
		t.Errorf("the notifications still name a hidden question")
	}
	var n int
	if err := s.store.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action IN
		('question.close', 'question.reopen', 'question.answer_hide', 'question.hide')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("audited moderation: %d events, want 5", n)
	}
}

// The question page offers each person exactly their controls, as forms
// with the session's CSRF token; hiding takes a confirming step without
// script; an ended session changes nothing.
func TestQuestionModerationForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestServer(t, questionItems...)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	askerToken := account(t, s, "fragerin")
	memberToken := account(t, s, "mitglied")
	account(t, s, "hladmin", "admin", "luebeck")
	q, _ := askQuestion(t, s, askerToken, `{"title":"Wer kennt Lastenräder?","topics":["mobilitaet"],"cities":["luebeck"]}`)
	qpath := "/questions/" + strconv.FormatInt(q.ID, 10)
	post := func(c *http.Client, target string, v url.Values) (int, string) {
		t.Helper()
		resp, err := c.PostForm(srv.URL+target, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	asker := signIn(t, srv.URL, "fragerin")
	page := getPage(t, asker, srv.URL+qpath)
	token := csrfField.FindStringSubmatch(page)[1]
	for _, want := range []string{`action="` + qpath + `/edit"`, `action="` + qpath + `/close"`, `id="q-edit-title"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the asker's page lacks %s", want)
		}
	}
	if strings.Contains(page, qpath+"/hide") {
		t.Errorf("the asker is offered to hide")
	}
	memberPage := send(s, "GET", qpath, memberToken, "", "").Body.String()
	if strings.Contains(memberPage, qpath+"/edit") || strings.Contains(memberPage, qpath+"/close") || strings.Contains(memberPage, qpath+"/hide") {
		t.Errorf("another member is offered the asker's or a moderator's controls")
	}
	admin := signIn(t, srv.URL, "hladmin")
	adminPage := getPage(t, admin, srv.URL+qpath)
	if !strings.Contains(adminPage, `<details class="question-hide"><summary>`+s.catalogs["de"]["questions.hide"]) || strings.Contains(adminPage, qpath+"/edit") {
		t.Errorf("the city admin's page: no confirming step to hide, or an edit form")
	}

	// Edit: without CSRF token refused; with it saved; invalid kept.
	if code, _ := post(asker, qpath+"/edit", url.Values{"title": {"Ohne Token"}, "topics": {"mobilitaet"}}); code != 403 {
		t.Errorf("an edit without CSRF token: %d", code)
	}
	code, body := post(asker, qpath+"/edit", url.Values{"csrf_token": {token}, "title": {"Ohne Thema"}})
	if code != 422 || !strings.Contains(body, `value="Ohne Thema"`) || !strings.Contains(body, "mindestens ein Thema") {
		t.Errorf("an edit without topic: %d", code)
	}
	code, body = post(asker, qpath+"/edit", url.Values{"csrf_token": {token}, "title": {"Wer kennt Lastenräder mit Anhänger?"}, "topics": {"mobilitaet"}, "cities": {"luebeck"}})
	if code != 200 || !strings.Contains(body, "Wer kennt Lastenräder mit Anhänger?") || !strings.Contains(body, s.catalogs["de"]["question.edited"]) {
		t.Errorf("the asker's edit: %d", code)
	}
	// The answer's author edits it on the page; the city admin hides it
	// through the confirming form; nobody else is offered either.
	rec := send(s, "POST", "/api/v1"+qpath+"/answers", memberToken, "application/json", `{"body":"Erste Antwort"}`)
	aid := strconv.FormatInt(decodeQuestion(t, rec, rec.Body.String()).Answers[0].ID, 10)
	apath := qpath + "/answers/" + aid
	if page := getPage(t, asker, srv.URL+qpath); strings.Contains(page, apath+"/edit") || strings.Contains(page, apath+"/hide") {
		t.Errorf("the asker is offered to edit or hide an answer")
	}
	answerer := signIn(t, srv.URL, "mitglied")
	page = getPage(t, answerer, srv.URL+qpath)
	if !strings.Contains(page, `action="`+apath+`/edit"`) || strings.Contains(page, apath+"/hide") {
		t.Errorf("the answer's author: no edit form, or a hide form")
	}
	mtoken := csrfField.FindStringSubmatch(page)[1]
	if code, _ := post(answerer, apath+"/edit", url.Values{"body": {"Ohne Token"}}); code != 403 {
		t.Errorf("an answer edit without CSRF token: %d", code)
	}
	if code, body := post(answerer, apath+"/edit", url.Values{"csrf_token": {mtoken}, "body": {" "}}); code != 422 || !strings.Contains(body, s.catalogs["de"]["err.answer.empty"]) {
		t.Errorf("an empty answer edit: %d", code)
	}
	if code, body := post(answerer, apath+"/edit", url.Values{"csrf_token": {mtoken}, "body": {"Zweite Antwort"}}); code != 200 || !strings.Contains(body, "Zweite Antwort") {
		t.Errorf("the author's answer edit: %d", code)
	}
	adminPage = getPage(t, admin, srv.URL+qpath)
	if !strings.Contains(adminPage, `action="`+apath+`/hide"`) {
		t.Errorf("the city admin is not offered to hide the answer")
	}
	if code, body := post(admin, apath+"/hide", url.Values{"csrf_token": {csrfField.FindStringSubmatch(adminPage)[1]}}); code != 200 || strings.Contains(body, "Zweite Antwort") {
		t.Errorf("the admin hides the answer: %d", code)
	}
	// Unanswered again (the answer is hidden), the asker may edit.
	if page := getPage(t, asker, srv.URL+qpath); !strings.Contains(page, `action="`+qpath+`/edit"`) {
		t.Errorf("with its only answer hidden, the asker may not edit the question")
	}

	// Close, as resolved: the page says so and offers no answer form.
	code, body = post(asker, qpath+"/close", url.Values{"csrf_token": {token}, "closed": {"on"}})
	if code != 200 || !strings.Contains(body, s.catalogs["de"]["questions.closed_note"]) || strings.Contains(body, `id="answer-body"`) ||
		!strings.Contains(body, s.catalogs["de"]["questions.reopen"]) {
		t.Errorf("after closing: %d", code)
	}
	if page := getPage(t, asker, srv.URL+"/questions?open=0"); !strings.Contains(page, s.catalogs["de"]["questions.closed_badge"]) {
		t.Errorf("the list does not mark the closed question")
	}
	// An ended session: the form, with a token that was right, does nothing.
	if _, err := s.store.Pool().Exec(ctx, `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	if code, body := post(asker, qpath+"/close", url.Values{"csrf_token": {token}, "closed": {"off"}}); code == 200 && strings.Contains(body, s.catalogs["de"]["question.reopened"]) {
		t.Errorf("a form of an ended session reopened the question")
	}
	if q := getQuestion(t, s, "/api/v1"+qpath, askerToken); !q.Closed {
		t.Errorf("a form of an ended session reopened the question")
	}
	// The admin (signed in anew) hides through the confirming form.
	admin = signIn(t, srv.URL, "hladmin")
	adminToken := csrfField.FindStringSubmatch(getPage(t, admin, srv.URL+qpath))[1]
	code, body = post(admin, qpath+"/hide", url.Values{"csrf_token": {adminToken}})
	if code != 200 || !strings.Contains(body, s.catalogs["de"]["question.hidden"]) {
		t.Errorf("the admin hides: %d", code)
	}
	if rec := send(s, "GET", qpath, memberToken, "", ""); rec.Code != 404 {
		t.Errorf("a hidden question's page: %d", rec.Code)
	}
}
