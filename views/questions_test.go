package views

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

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
	page := getPage(t, signIn(t, srv.URL, "themenfan"), srv.URL+"/notifications")
	if !strings.Contains(page, `href="/questions/`+strconv.FormatInt(q1, 10)+`"`) {
		t.Errorf("the notifications page does not link the question: %.3000s", page)
	}
}
