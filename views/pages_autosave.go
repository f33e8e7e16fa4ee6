package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// The editor keeps what people type: it autosaves to the server while they
// write (autosave.js, with the browser's storage as the fallback), and a
// form posted after the session ended is never dropped: the text travels
// through the login page and comes back in the same editor, to be checked
// and sent again. Nothing is saved as a change without the person seeing it.

// editTarget is what an editor edits: a new article in a city, an article,
// or a proposal. Its key names the autosaved text on the server and in the
// browser.
type editTarget struct {
	City, Slug string // no Slug: a new article in City
	Change     int64  // a proposal being edited
}

func (t editTarget) key() string {
	switch {
	case t.Change != 0:
		return "change:" + strconv.FormatInt(t.Change, 10)
	case t.Slug != "":
		return "edit:" + t.City + "/" + t.Slug
	}
	return "new:" + t.City
}

// editorPages are the editor pages by route name; their forms post to the
// same path (route name + ".post") and autosave below it (+ ".autosave").
var editorPages = map[string]bool{"article.new": true, "article.edit": true, "change.edit": true}

// keepsText says whether rt is an editor form, whose text survives a
// session that ended or a stale CSRF token.
func keepsText(rt route) bool {
	return rt.method == http.MethodPost && editorPages[strings.TrimSuffix(rt.name, ".post")]
}

// targetOf reads the target from the variables of an editor route.
func targetOf(vars map[string]string) editTarget {
	if id, _ := strconv.ParseInt(vars["id"], 10, 64); id != 0 {
		return editTarget{Change: id}
	}
	return editTarget{City: vars["city"], Slug: vars["slug"]}
}

// route returns the name and variables of t's editor page.
func (t editTarget) route() (string, []string) {
	switch {
	case t.Change != 0:
		return "change.edit", []string{"id", strconv.FormatInt(t.Change, 10)}
	case t.Slug != "":
		return "article.edit", []string{"city", t.City, "slug", t.Slug}
	}
	return "article.new", []string{"city", t.City}
}

func (s *Server) editorPath(t editTarget) string {
	name, vars := t.route()
	return s.url(name, vars...)
}

func (s *Server) autosaveURL(t editTarget) string {
	name, vars := t.route()
	return s.url(name+".autosave", vars...)
}

// editorTargetAt is the target of the editor page at path, for the way back
// from the login page.
func (s *Server) editorTargetAt(path string) (editTarget, bool) {
	req, err := http.NewRequest(http.MethodGet, path, nil)
	var match mux.RouteMatch
	if err != nil || !s.router.Match(req, &match) || match.Route == nil || !editorPages[match.Route.GetName()] {
		return editTarget{}, false
	}
	return targetOf(match.Vars), true
}

// mayEditTarget asks the homes of the rules whether the request's identity
// may open t's editor; the route has checked the role already.
func (s *Server) mayEditTarget(r *http.Request, t editTarget) error {
	ctx := r.Context()
	switch {
	case t.Change != 0:
		id := auth.FromContext(ctx)
		c, err := s.workflow.Get(ctx, id, t.Change)
		if err != nil {
			return err
		}
		return s.workflow.MayEdit(id, c)
	case t.Slug != "":
		_, err := s.store.Article(ctx, s.readerOf(r), t.City, t.Slug)
		return err
	}
	_, err := s.store.City(ctx, t.City)
	return err
}

// editorFromValues reads the editor's fields; values is its inverse.
func editorFromValues(v url.Values) editorForm {
	f := editorForm{Title: v.Get("title"), Body: v.Get("body"), Summary: v.Get("summary"),
		Tags: v.Get("tags"), Topics: v["topics"], Visibility: v.Get("visibility"),
		Status: v.Get("status"), StartYear: strings.TrimSpace(v.Get("start_year")),
		Cost: v.Get("cost"), CostBand: v.Get("cost_band"), Funding: v.Get("funding"), Partners: v.Get("partners"), Contact: v.Get("contact"),
		AdoptedFrom: v.Get("adopted_from")}
	f.Base, _ = strconv.ParseInt(v.Get("base_revision"), 10, 64)
	return f
}

// values is the form as the browser posts it, for storing and comparing.
func (f editorForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"title": f.Title, "body": f.Body, "summary": f.Summary, "tags": f.Tags,
		"visibility": f.Visibility, "status": f.Status, "start_year": f.StartYear, "cost": f.Cost, "cost_band": f.CostBand,
		"funding": f.Funding, "partners": f.Partners, "contact": f.Contact, "adopted_from": f.AdoptedFrom} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(f.Topics) > 0 {
		v["topics"] = append([]string(nil), f.Topics...)
	}
	if f.Base != 0 {
		v.Set("base_revision", strconv.FormatInt(f.Base, 10))
	}
	return v
}

// maxShortFields bounds the editor's fields other than the Markdown body,
// together; they are short by nature (the title has 200 characters).
const maxShortFields = 64 << 10

// tooLarge is the editor's size rule for text that is kept before it is
// validated: the Markdown limit, and a bound on the rest.
func (f editorForm) tooLarge() bool {
	if len(f.Body) > wiki.MaxBodyBytes {
		return true
	}
	n := 0
	for k, vs := range f.values() {
		if k != "body" {
			for _, s := range vs {
				n += len(s)
			}
		}
	}
	return n > maxShortFields
}

// errTextTooLarge answers an autosave beyond the size rule.
var errTextTooLarge = &wiki.InvalidError{Field: "body", Key: "body.size", TooLarge: true,
	Message: fmt.Sprintf("the text may be at most %d KiB", wiki.MaxBodyBytes>>10), Args: []any{wiki.MaxBodyBytes >> 10}}

// maxEditorPost bounds an autosave request: the Markdown limit in
// form encoding (up to three bytes per byte) and the short fields.
const maxEditorPost = 3*wiki.MaxBodyBytes + 4*maxShortFields

// sessionRestore names, in the session, the target whose autosaved text
// the next editor page shows in place of the stored one: the text that came
// back through the login page or after a stale form.
const sessionRestore = "autosave.restore"

// autosaveView is what the editor page shows of autosaving.
type autosaveView struct {
	AutosaveKey string
	AutosaveURL string
	// AutosaveExists says the server keeps a draft for this editor.
	AutosaveExists bool
	// Restored names the message that the form shows kept text: sent
	// before and to be sent again, or an autosaved draft restored.
	Restored string
	// Offer is a newer autosaved text than the one in the form.
	Offer *autosaveOffer
}

type autosaveOffer struct {
	SavedAt     time.Time
	BaseChanged bool // the article changed since the text was written
	RestoreURL  string
}

// editorAutosave prepares the editor page: on a fresh page it shows the
// kept text when the person came back for it, and otherwise offers an
// autosaved text that differs from the form.
func (s *Server) editorAutosave(r *http.Request, m *editorModel) {
	t := editTarget{City: m.City.Slug}
	switch {
	case m.Change != nil:
		t = editTarget{Change: m.Change.ID}
	case m.Article != nil:
		t.Slug = m.Article.Slug
	}
	m.AutosaveKey, m.AutosaveURL = t.key(), s.autosaveURL(t)
	if r.Method != http.MethodGet {
		return // the form shows what was just posted
	}
	ctx := r.Context()
	id := auth.FromContext(ctx)
	restore := ""
	if r.URL.Query().Get("autosave") == "restore" {
		restore = "autosave.restored_draft"
	}
	if s.sessions.GetString(ctx, sessionRestore) == t.key() {
		s.sessions.Remove(ctx, sessionRestore)
		restore = "autosave.restored"
	}
	a, err := s.workflow.Autosave(ctx, id, t.key())
	if err != nil {
		if !errors.Is(err, wiki.ErrNotFound) {
			s.log.Warn("reading autosaved text", "err", err, "request_id", requestID(ctx))
		}
		return
	}
	var v url.Values
	if err := json.Unmarshal(a.Fields, &v); err != nil {
		s.log.Warn("autosaved text unreadable", "err", err, "target", t.key())
		return
	}
	m.AutosaveExists = true
	kept := editorFromValues(v)
	switch {
	case restore != "":
		m.Form, m.Restored = kept, restore
	case kept.values().Encode() != m.Form.values().Encode():
		m.Offer = &autosaveOffer{SavedAt: a.SavedAt, BaseChanged: kept.Base != m.Form.Base,
			RestoreURL: r.URL.Path + "?autosave=restore"}
	}
}

// dropAutosave deletes the autosaved text once the change is saved.
func (s *Server) dropAutosave(r *http.Request, t editTarget) {
	if err := s.workflow.DiscardAutosave(r.Context(), auth.FromContext(r.Context()), t.key()); err != nil {
		s.log.Warn("deleting autosaved text", "err", err, "request_id", requestID(r.Context()))
	}
}

type autosaveJSON struct {
	Target  string          `json:"target"`
	SavedAt time.Time       `json:"saved_at"`
	Fields  json.RawMessage `json:"fields,omitempty"`
	// Message is the status line, in the reader's language.
	Message string `json:"message,omitempty"`
}

// autosaveGet answers the caller's own autosaved text for the editor; 404
// when there is none, and nobody else's is ever found.
func (s *Server) autosaveGet(w http.ResponseWriter, r *http.Request) {
	t := targetOf(mux.Vars(r))
	if err := s.mayEditTarget(r, t); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.workflow.Autosave(r.Context(), auth.FromContext(r.Context()), t.key())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, autosaveJSON{Target: a.Target, SavedAt: a.SavedAt, Fields: a.Fields})
}

// autosavePost stores the editor's fields as the caller's autosaved text,
// or with op=discard deletes it. Scripts get JSON; the discard button of
// the page without JavaScript returns to the editor.
func (s *Server) autosavePost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := auth.FromContext(ctx)
	t := targetOf(mux.Vars(r))
	if err := s.mayEditTarget(r, t); err != nil {
		s.apiError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxEditorPost)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.apiError(w, r, errTextTooLarge)
			return
		}
		s.apiError(w, r, errBadRequest)
		return
	}
	script := strings.Contains(r.Header.Get("Accept"), "application/json")
	if r.PostForm.Get("op") == "discard" {
		if err := s.workflow.DiscardAutosave(ctx, id, t.key()); err != nil {
			s.apiError(w, r, err)
			return
		}
		if !script {
			http.Redirect(w, r, s.editorPath(t), http.StatusSeeOther)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f := editorFromValues(r.PostForm)
	if f.tooLarge() {
		s.apiError(w, r, errTextTooLarge)
		return
	}
	fields, err := json.Marshal(f.values())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	at, err := s.workflow.SaveAutosave(ctx, id, t.key(), fields)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	c := s.catalogs[language(r)]
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, autosaveJSON{Target: t.key(), SavedAt: at,
		Message: c.T("autosave.saved", at.In(berlin).Format("15:04"))})
}

// holdForSignIn answers an editor form posted without a session: the login
// page, which carries the text in a hidden field and brings it back to the
// editor after sign-in (claimHeld). Nothing is stored for the anonymous
// request, so it cannot fill the database; cross-site posts are refused,
// so no other site can put words into someone's editor.
func (s *Server) holdForSignIn(w http.ResponseWriter, r *http.Request) {
	if err := s.crossOrigin.Check(r); err != nil {
		s.fail(w, r, wiki.ErrForbidden, "csrf")
		return
	}
	form, _ := parseEditor(r)
	held, err := json.Marshal(form.values())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderLogin(w, r, http.StatusUnauthorized, &loginModel{Next: r.URL.Path, Held: string(held)})
}

// heldField is the text an expired editor left on the login form, carried
// on while sign-in is retried.
func heldField(r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	return r.PostFormValue("held")
}

// claimHeld keeps the text that came through the login page as the signed-in
// person's autosaved text, and has the editor at next show it.
func (s *Server) claimHeld(r *http.Request, id *auth.Identity, next string) {
	held := heldField(r)
	if held == "" {
		return
	}
	ctx := r.Context()
	t, ok := s.editorTargetAt(next)
	var v url.Values
	if !ok || json.Unmarshal([]byte(held), &v) != nil {
		s.log.Warn("text from the login page without its editor", "next", next, "request_id", requestID(ctx))
		return
	}
	f := editorFromValues(v)
	fields, err := json.Marshal(f.values())
	if err == nil {
		_, err = s.workflow.SaveAutosave(ctx, id, t.key(), fields)
	}
	if err != nil {
		s.log.Error("keeping the text from the login page", "err", err, "request_id", requestID(ctx))
		return
	}
	s.sessions.Put(ctx, sessionRestore, t.key())
}

// keepForResubmit answers an editor form whose CSRF token is stale (the
// person signed in again in another tab): the text becomes their autosaved
// text and the editor shows it again, to be sent with a fresh token.
func (s *Server) keepForResubmit(w http.ResponseWriter, r *http.Request) {
	if err := s.crossOrigin.Check(r); err != nil {
		s.fail(w, r, wiki.ErrForbidden, "csrf")
		return
	}
	ctx := r.Context()
	t := targetOf(mux.Vars(r))
	if err := s.mayEditTarget(r, t); err != nil {
		s.htmlError(w, r, err)
		return
	}
	form, _ := parseEditor(r)
	fields, err := json.Marshal(form.values())
	if err == nil {
		_, err = s.workflow.SaveAutosave(ctx, auth.FromContext(ctx), t.key(), fields)
	}
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.sessions.Put(ctx, sessionRestore, t.key())
	http.Redirect(w, r, s.editorPath(t), http.StatusSeeOther)
}
