package views

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hansewiki/auth"
)

// A reviewer records, lists and cancels an absence through the API (as
// documented) and on the account page; a deputy of another city and a
// member who reviews nowhere are refused.
func TestAbsenceOverAPIAndAccountPage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	doc := loadOpenAPI(t)
	reviewer := account(t, s, "pruefer-hl", "reviewer", "luebeck")
	deputy := account(t, s, "vertretung-hl", "reviewer", "luebeck")
	account(t, s, "pruefer-hro", "reviewer", "rostock")
	member := account(t, s, "mitglied")
	today := auth.Day(time.Now())
	day := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }

	rec := doJSON(t, s, "POST", "/api/v1/me/absences", reviewer, map[string]string{"from": day(0), "to": day(7), "deputy": "pruefer-hro"})
	checkDocumented(t, doc, "/me/absences", "post", rec)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"field":"deputy"`) {
		t.Errorf("a deputy of another city: %d %s", rec.Code, rec.Body)
	}
	rec = doJSON(t, s, "POST", "/api/v1/me/absences", member, map[string]string{"from": day(0), "to": day(7), "deputy": "pruefer-hl"})
	checkDocumented(t, doc, "/me/absences", "post", rec)
	if rec.Code != http.StatusForbidden {
		t.Errorf("a member records an absence: %d %s", rec.Code, rec.Body)
	}
	rec = doJSON(t, s, "POST", "/api/v1/me/absences", reviewer, map[string]string{"from": day(0), "to": day(7), "deputy": "vertretung-hl"})
	checkDocumented(t, doc, "/me/absences", "post", rec)
	var a struct {
		ID       int64
		City     string
		Deputy   string
		Current  bool
		From, To string
	}
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &a) != nil || a.City != "luebeck" || a.Deputy != "vertretung-hl" || !a.Current || a.To != day(7) {
		t.Fatalf("recording an absence: %d %s", rec.Code, rec.Body)
	}
	rec = doJSON(t, s, "GET", "/api/v1/me/absences", reviewer, nil)
	checkDocumented(t, doc, "/me/absences", "get", rec)
	if !strings.Contains(rec.Body.String(), `"deputy":"vertretung-hl"`) {
		t.Errorf("listing: %s", rec.Body)
	}
	// The account page shows it, with the form; the deputy's page says
	// whom they stand in for.
	page := send(s, "GET", "/account", reviewer, "", "").Body.String()
	for _, want := range []string{`id="absence-title"`, "Abwesenheit und Vertretung", `name="deputy"`, `list="absence-deputies"`, `<option value="vertretung-hl">`, "jetzt"} {
		if !strings.Contains(page, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if strings.Contains(page, `<option value="pruefer-hro">`) {
		t.Error("the deputy picker offers a reviewer of another city")
	}
	if page := send(s, "GET", "/account", member, "", "").Body.String(); strings.Contains(page, `id="absence-title"`) {
		t.Error("a member who reviews nowhere is offered absences")
	}
	// What reaches the absent reviewer (a comment on an article they
	// watch) reaches the deputy, marked on their notifications page.
	if rec := send(s, "POST", "/c/luebeck/quartiersbus-in-luebeck/watch", reviewer, "application/x-www-form-urlencoded", "watch=on"); rec.Code != http.StatusSeeOther {
		t.Fatalf("watching: %d", rec.Code)
	}
	if rec := doJSON(t, s, "POST", "/api/v1/articles/luebeck/quartiersbus-in-luebeck/comments", member, map[string]string{"body": "Fährt der Bus auch sonntags?"}); rec.Code != http.StatusCreated {
		t.Fatalf("commenting: %d %s", rec.Code, rec.Body)
	}
	if page := send(s, "GET", "/notifications", deputy, "", "").Body.String(); !strings.Contains(page, "als Vertretung für pruefer-hl") || !strings.Contains(page, "Quartiersbus in Lübeck") {
		t.Error("the deputy's notifications page does not show the absent reviewer's notification as such")
	}
	if page := send(s, "GET", "/notifications?lang=en", deputy, "", "").Body.String(); !strings.Contains(page, "as the deputy of pruefer-hl") {
		t.Error("the English notifications page lacks the deputy marker")
	}
	// The form, as a browser sends it.
	form := url.Values{"from": {day(10)}, "to": {day(12)}, "deputy": {"vertretung-hl"}, "city": {"luebeck"}}
	if rec := send(s, "POST", "/account/absences", reviewer, "application/x-www-form-urlencoded", form.Encode()); rec.Code != http.StatusSeeOther {
		t.Fatalf("form: %d %s", rec.Code, rec.Body)
	}
	form.Set("deputy", "pruefer-hro")
	form.Set("from", day(20))
	form.Set("to", day(21))
	if rec := send(s, "POST", "/account/absences", reviewer, "application/x-www-form-urlencoded", form.Encode()); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(rec.Body.String(), "Die Vertretung muss in derselben Stadt Änderungen prüfen.") {
		t.Errorf("form with a deputy of another city: %d", rec.Code)
	}
	if rec := send(s, "DELETE", "/api/v1/me/absences/"+itoa(a.ID), member, "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("someone else cancels the absence: %d", rec.Code)
	}
	if rec := send(s, "DELETE", "/api/v1/me/absences/"+itoa(a.ID), reviewer, "", ""); rec.Code != http.StatusNoContent {
		t.Errorf("cancelling: %d %s", rec.Code, rec.Body)
	}
	rec = doJSON(t, s, "GET", "/api/v1/me/absences", reviewer, nil)
	if strings.Count(rec.Body.String(), `"id"`) != 1 {
		t.Errorf("after cancelling one of two: %s", rec.Body)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A city admin grants a role until a date on their city's page (shown with
// its end, audited with it); not in another city, not in the past. A
// network admin does the same on the roles page.
func TestAdminPagesGrantRolesUntilADate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	ctx := context.Background()
	cityAdmin := account(t, s, "admin-hl", "admin", "luebeck")
	network := account(t, s, "koordination", "admin", "*")
	greta := account(t, s, "greta")
	until := auth.Day(time.Now()).AddDate(0, 3, 0)
	form := func(kv ...string) string {
		v := url.Values{"op": {"grant"}, "username": {"greta"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	if rec := send(s, "POST", "/admin/c/luebeck/roles", cityAdmin, formType, form("role", "reviewer", "until", until.Format(time.DateOnly))); rec.Code != http.StatusSeeOther {
		t.Fatalf("granting until a date: %d %s", rec.Code, rec.Body)
	}
	members, err := s.auth.Members(ctx, "luebeck")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range members {
		if m.Username == "greta" && m.Role == "reviewer" {
			found = m.Until != nil && m.Until.Equal(until)
		}
	}
	if !found {
		t.Errorf("greta's role has no end date %s: %+v", until.Format(time.DateOnly), members)
	}
	page := send(s, "GET", "/admin/c/luebeck", cityAdmin, "", "").Body.String()
	// The API tells greta when her role ends.
	s.opts.Barrier.Sync(ctx)
	if me := send(s, "GET", "/api/v1/me", greta, "", "").Body.String(); !strings.Contains(me, `{"city":"luebeck","role":"reviewer","until":"`+until.Format(time.DateOnly)+`"}`) {
		t.Errorf("/api/v1/me does not show the role's end: %s", me)
	}
	if !regexp.MustCompile(`bis \d+\. [A-Za-zä]+ \d{4}`).MatchString(page) || !strings.Contains(page, `name="until"`) {
		t.Error("the city's page does not show the role's end date or the date field")
	}
	if page := send(s, "GET", "/account", greta, "", "").Body.String(); !strings.Contains(page, "Ihre Rolle „Prüferin/Prüfer“ in Hansestadt Lübeck endet nach dem") {
		t.Errorf("greta's account page does not say when her role ends")
	}
	var detail string
	s.store.Pool().QueryRow(ctx, `SELECT detail->>'until' FROM audit_events WHERE action = 'role.grant' AND object = 'user:greta' ORDER BY id DESC LIMIT 1`).Scan(&detail)
	if detail != until.Format(time.DateOnly) {
		t.Errorf("the grant was audited with until %q", detail)
	}
	// Another city is refused by the route; a day in the past by the form.
	if rec := send(s, "POST", "/admin/c/rostock/roles", cityAdmin, formType, form("role", "reviewer", "until", until.Format(time.DateOnly))); rec.Code != http.StatusForbidden {
		t.Errorf("a Lübeck admin grants in Rostock: %d", rec.Code)
	}
	if rec := send(s, "POST", "/admin/roles", cityAdmin, formType, form("role", "reviewer", "city", "rostock", "until", until.Format(time.DateOnly))); rec.Code != http.StatusForbidden {
		t.Errorf("a Lübeck admin uses the network's roles page: %d", rec.Code)
	}
	yesterday := auth.Day(time.Now()).AddDate(0, 0, -1).Format(time.DateOnly)
	if rec := send(s, "POST", "/admin/c/luebeck/roles", cityAdmin, formType, form("role", "author", "until", yesterday)); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(rec.Body.String(), "Das Ende einer Rolle darf nicht in der Vergangenheit liegen.") {
		t.Errorf("an end date in the past: %d", rec.Code)
	}
	if rec := send(s, "POST", "/admin/c/luebeck/roles", cityAdmin, formType, form("role", "author", "until", "31.03.2027")); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("an end date that is no date: %d", rec.Code)
	}
	// The network admin grants in any city, with an end.
	if rec := send(s, "POST", "/admin/roles", network, formType, form("role", "author", "city", "rostock", "until", until.Format(time.DateOnly))); rec.Code != http.StatusSeeOther {
		t.Fatalf("network admin grants until a date: %d %s", rec.Code, rec.Body)
	}
	if page := send(s, "GET", "/admin/people", network, "", "").Body.String(); !strings.Contains(page, "(bis ") {
		t.Error("the people page does not show end dates")
	}
	// Granting again without a date makes the role permanent.
	if rec := send(s, "POST", "/admin/c/luebeck/roles", cityAdmin, formType, form("role", "reviewer")); rec.Code != http.StatusSeeOther {
		t.Fatalf("granting again: %d", rec.Code)
	}
	members, _ = s.auth.Members(ctx, "luebeck")
	for _, m := range members {
		if m.Username == "greta" && m.Until != nil {
			t.Errorf("the role still ends on %v", m.Until)
		}
	}

	// The periodic job ends what is due (here the Rostock role and a
	// Lübeck one); the audit log says so in words, and the Lübeck admin
	// sees only Lübeck's.
	if rec := send(s, "POST", "/admin/c/luebeck/roles", cityAdmin, formType, form("role", "author", "until", until.Format(time.DateOnly))); rec.Code != http.StatusSeeOther {
		t.Fatalf("granting until a date: %d", rec.Code)
	}
	if n, err := s.auth.EndRoles(ctx, until); err != nil || n != 0 {
		t.Fatalf("on the last day %d roles ended (%v)", n, err)
	}
	if n, err := s.auth.EndRoles(ctx, until.AddDate(0, 0, 1).Add(12*time.Hour)); err != nil || n != 2 {
		t.Fatalf("after the last day %d roles ended (%v), want 2", n, err)
	}
	s.opts.Barrier.Sync(ctx)
	rec := send(s, "GET", "/api/v1/audit?action=role.end", cityAdmin, "", "")
	var events []struct {
		Actor  string
		Detail map[string]any
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &events) != nil || len(events) != 1 ||
		events[0].Detail["city"] != "luebeck" || events[0].Detail["until"] != until.Format(time.DateOnly) || events[0].Actor != auth.RoleEndActor {
		t.Errorf("the Lübeck admin's audit of ended roles: %d %s", rec.Code, rec.Body)
	}
	if page := send(s, "GET", "/admin/audit", network, "", "").Body.String(); strings.Count(page, "Rolle endete am Fristende") < 3 { // the filter's option and two events
		t.Error("the audit page does not say in words that roles ended")
	}
	if roles := send(s, "GET", "/admin/people", network, "", "").Body.String(); strings.Contains(roles, "(bis ") {
		t.Error("the ended roles are still listed with their end")
	}
}
