package views

import (
	"errors"
	"html/template"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/textdiff"
	"hansewiki/workflow"
)

type changeModel struct {
	Page
	Change   *workflow.Change
	Proposed *wiki.Revision
	Base     *wiki.Revision
	Body     template.HTML // the proposal, rendered and sanitized when saved
	Diff     template.HTML // Markdown source, word by word
	Rendered template.HTML // the text readers see, word by word
	Fields   []fieldChange
	Added    int
	Removed  int
	Comments []workflow.Comment
	Conflict *conflictView
	// Caps is what the reader may do with the change: the workflow's one
	// answer, which the template asks instead of re-deriving roles.
	Caps  workflow.Capabilities
	Error string
	// Warnings: the proposal's accessibility warnings, rendered.
	Warnings template.HTML
	// Files the proposal adds to or removes from the article.
	FilesAdded, FilesRemoved []fileChange
}

// fileChange is an attachment the proposal adds or removes.
type fileChange struct {
	Name, URL, Meta string
}

func (s *Server) changePage(w http.ResponseWriter, r *http.Request) {
	s.showChange(w, r, http.StatusOK, "")
}

func (s *Server) showChange(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	id := auth.FromContext(ctx)
	c, err := s.workflow.Get(ctx, id, changeID(r))
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &changeModel{Change: c, Caps: s.workflow.Capabilities(id, c), Error: msg}
	// Opening the change is reading what the notifications said about it.
	if err := s.workflow.MarkChangeRead(ctx, id, c.ID); err != nil {
		s.log.Warn("marking notifications read", "err", err, "change", c.ID)
	}
	if m.Proposed, err = s.workflow.Revision(ctx, c, c.Revision); err != nil {
		s.serverError(w, r, err)
		return
	}
	// Stored renderings are made for the article's readers; this viewer
	// (say the proposal's author from another city) may know less.
	reader := s.readerOf(r)
	if err := s.store.RenderFor(ctx, reader, m.Proposed); err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Body = template.HTML(m.Proposed.HTML)
	base := &wiki.Revision{}
	if c.BaseRevision != nil {
		if base, err = s.workflow.Revision(ctx, c, *c.BaseRevision); err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := s.store.RenderFor(ctx, reader, base); err != nil {
			s.serverError(w, r, err)
			return
		}
		m.Base = base
	}
	cat := s.catalogs[language(r)]
	m.Fields = metadataChanges(cat, s.topicNamer(language(r)), base, m.Proposed)
	m.Added, m.Removed = textdiff.Stats(textdiff.Words(base.Body, m.Proposed.Body))
	m.Diff = template.HTML(cat.diffHTML(textdiff.Prose(base.Body, m.Proposed.Body)))
	m.Rendered = template.HTML(cat.diffHTML(textdiff.Prose(plainText(base.HTML), plainText(m.Proposed.HTML))))
	if c.State == workflow.Conflict {
		if m.Conflict, err = s.conflict(r, c); err != nil && !noMerge(err) {
			s.serverError(w, r, err)
			return
		}
	}
	if m.Warnings, err = s.warningsHTML(r, c.Warnings); err != nil {
		s.serverError(w, r, err)
		return
	}
	if c.Files != nil {
		view := func(list []*wiki.Attachment) []fileChange {
			var out []fileChange
			for _, a := range list {
				out = append(out, fileChange{Name: a.Name, URL: a.URL(), Meta: markdown.FileKind(path.Ext(a.Name)) + ", " + markdown.FileSize(a.Size)})
			}
			return out
		}
		m.FilesAdded, m.FilesRemoved = view(c.Files.Added), view(c.Files.Removed)
	}
	if m.Comments, err = s.workflow.Comments(ctx, c.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Title = cat.T("change.title", c.ID, c.Title)
	// The header marks where the change belongs for this reader: among
	// their own changes, or in the review queue; else nowhere.
	switch {
	case m.Caps.Author:
		m.Nav = "changes"
	case m.Caps.Review():
		m.Nav = "review"
	}
	w.Header().Set("Cache-Control", privateNoStore)
	s.render(w, r, status, "change", m)
}

// changeAction runs the transition a button on the change page asked for.
// A review decision names the revision the reviewer read (the form always
// sends it); a newer one answers 409 with the current text.
func (s *Server) changeAction(w http.ResponseWriter, r *http.Request) {
	a := workflow.Action(r.PostFormValue("action"))
	// Withdrawing is final: asked for first, of those who may (everyone
	// else gets the action's own refusal below).
	if a == workflow.ActWithdraw && r.PostFormValue("confirmed") != "1" {
		if _, err := s.workflow.MayDo(r.Context(), auth.FromContext(r.Context()), changeID(r), a); err == nil {
			http.Redirect(w, r, s.url("change.withdraw.confirm", "id", strconv.FormatInt(changeID(r), 10)), http.StatusSeeOther)
			return
		}
	}
	revision, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	var ch *workflow.Change
	var err error
	switch {
	case (a == workflow.ActApprove || a == workflow.ActRequestChanges || a == workflow.ActReject) && revision <= 0:
		// The form always names the text on show: a decision without it is
		// about no text the reviewer can be shown to have read. (404 first
		// for those who may not see the change.)
		if _, err = s.workflow.Get(r.Context(), auth.FromContext(r.Context()), changeID(r)); err == nil {
			err = &workflow.RevisionError{}
		}
	default:
		ch, err = s.runAction(r, a, r.PostFormValue("comment"), revision)
	}
	c := s.catalogs[language(r)]
	var inv *wiki.InvalidError
	var se *workflow.StateError
	var re *workflow.RevisionError
	switch {
	case err == nil && a == workflow.ActSubmit:
		s.flash(w, r, savedKey(ch), s.url("change", "id", strconv.FormatInt(changeID(r), 10)))
	case err == nil && a == workflow.ActApprove && ch.State == workflow.Published:
		// The approval that completed the quorum published the article:
		// say so, and the change page links to it.
		s.flash(w, r, "change.done.published", s.url("change", "id", strconv.FormatInt(changeID(r), 10)))
	case err == nil && a == workflow.ActApprove && ch.State == workflow.Conflict:
		s.flash(w, r, "change.done.conflict", s.url("change", "id", strconv.FormatInt(changeID(r), 10)))
	case err == nil:
		s.flash(w, r, "change.done."+string(a), s.url("change", "id", strconv.FormatInt(changeID(r), 10)))
	case errors.As(err, &inv):
		// The catalog's texts are whole sentences that say what to do.
		s.showChange(w, r, http.StatusUnprocessableEntity, c.errorText(err))
	case errors.As(err, &se):
		s.showChange(w, r, http.StatusConflict, c.T("change.state_conflict", c.T("state."+string(se.State))))
	case errors.As(err, &re):
		s.showChange(w, r, http.StatusConflict, c.T("change.revision_conflict"))
	default:
		s.htmlError(w, r, err)
	}
}

func (s *Server) changeComment(w http.ResponseWriter, r *http.Request) {
	err := s.workflow.AddComment(r.Context(), s.meta(r), changeID(r), r.PostFormValue("body"))
	var inv *wiki.InvalidError
	switch {
	case err == nil:
		http.Redirect(w, r, s.url("change", "id", strconv.FormatInt(changeID(r), 10))+"#diskussion", http.StatusSeeOther)
	case errors.As(err, &inv):
		s.showChange(w, r, http.StatusUnprocessableEntity, s.catalogs[language(r)].errorText(err))
	default:
		s.htmlError(w, r, err)
	}
}

type changesModel struct {
	Page
	Changes []*workflow.Change
	Cities  []wiki.City
	City    string
	State   string
	Review  bool
	States  []workflow.State
	Now     time.Time
}

// reviewQueue lists the changes waiting for the user's review ("Zu prüfen").
func (s *Server) reviewQueue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := auth.FromContext(ctx)
	m := &changesModel{City: r.URL.Query().Get("city"), Review: true, Now: time.Now()}
	var err error
	if m.Changes, err = s.workflow.ReviewQueue(ctx, id, m.City); err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Cities, err = s.store.Cities(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Title = s.catalogs[language(r)].T("review.title")
	m.Nav = "review"
	s.render(w, r, http.StatusOK, "changes", m)
}

// myChanges lists the user's own proposals.
func (s *Server) myChanges(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	state, err := enumParam(r, "state", workflow.States)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &changesModel{State: string(state), States: workflow.States, Now: time.Now()}
	if m.Changes, err = s.workflow.List(ctx, auth.FromContext(ctx), workflow.Filter{Mine: true, State: workflow.State(m.State)}); err != nil {
		s.htmlError(w, r, err)
		return
	}
	m.Title = s.catalogs[language(r)].T("changes.title")
	m.Nav = "changes"
	s.render(w, r, http.StatusOK, "changes", m)
}

type notificationsModel struct {
	Page
	Notifications []workflow.Notification
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := s.workflow.Notifications(ctx, auth.FromContext(ctx), 100)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m := &notificationsModel{Notifications: list}
	m.Title = s.catalogs[language(r)].T("notifications.title")
	m.Nav = "notifications"
	s.render(w, r, http.StatusOK, "notifications", m)
}

func (s *Server) notificationsRead(w http.ResponseWriter, r *http.Request) {
	if err := s.workflow.MarkRead(r.Context(), auth.FromContext(r.Context())); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, s.url("notifications"), http.StatusSeeOther)
}

func (s *Server) watchToggle(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	on := r.PostFormValue("watch") == "on"
	if err := s.workflow.Watch(r.Context(), auth.FromContext(r.Context()), v["city"], v["slug"], on); err != nil {
		s.htmlError(w, r, err)
		return
	}
	key := "watch.stopped"
	if on {
		key = "watch.started"
	}
	s.flash(w, r, key, s.url("article", "city", v["city"], "slug", v["slug"]))
}

// archiveToggle archives the article or brings it back (form field
// "archive": "on" or "off").
func (s *Server) archiveToggle(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	on := r.PostFormValue("archive") == "on"
	// Archiving is asked for first (a page: it works without JavaScript).
	if on && r.PostFormValue("confirmed") != "1" {
		http.Redirect(w, r, s.url("article.archive.confirm", "city", v["city"], "slug", v["slug"]), http.StatusSeeOther)
		return
	}
	if err := s.workflow.SetArchived(r.Context(), s.meta(r), v["city"], v["slug"], on); err != nil {
		s.htmlError(w, r, err)
		return
	}
	key := "archive.undone"
	if on {
		key = "archive.done"
	}
	s.flash(w, r, key, s.url("article", "city", v["city"], "slug", v["slug"]))
}

type auditModel struct {
	Page
	Events          []workflow.AuditEvent
	Object, Actor   string
	Action          string
	Next            int64
	CSVQuery        template.URL
	VerifiedOK      bool
	Verified        bool
	VerifiedMessage string
	// Filters by city and time, the actions to choose from, and the
	// display names of the people who acted.
	City, From, To string
	Actions        []string
	Cities         []wiki.City
	Names          map[string]string
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	f := s.auditFilter(r)
	f.Limit = 100
	events, err := workflow.Audit(r.Context(), s.store.Pool(), f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m := &auditModel{Events: events, Object: f.Object, Actor: f.Actor, Action: f.Action, CSVQuery: template.URL(r.URL.Query().Encode()),
		City: r.URL.Query().Get("city"), From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to"), Actions: auditActions}
	if err := s.auditNames(r, m); err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(events) == f.Limit {
		m.Next = events[len(events)-1].Seq
	}
	m.Title = s.catalogs[language(r)].T("audit.title")
	m.Nav = "admin"
	s.render(w, r, http.StatusOK, "audit", m)
}

func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request) {
	// The whole filtered log, page by page, so an export is never cut short.
	f := s.auditFilter(r)
	f.Limit = 1000
	var all []workflow.AuditEvent
	for {
		events, err := workflow.Audit(r.Context(), s.store.Pool(), f)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		all = append(all, events...)
		if len(events) < f.Limit {
			break
		}
		f.Before = events[len(events)-1].Seq
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="hansewiki-audit.csv"`)
	w.Header().Set("Cache-Control", privateNoStore)
	if err := workflow.WriteAuditCSV(w, all); err != nil {
		s.log.Error("writing audit CSV", "err", err)
	}
}
