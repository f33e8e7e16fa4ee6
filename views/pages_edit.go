package views

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/textdiff"
	"hansewiki/workflow"
)

// editorForm is what the editor shows and posts.
type editorForm struct {
	Title, Body, Summary, Tags string
	Topics                     []string
	Visibility                 string
	Status                     string
	StartYear                  string
	Cost, CostBand, Funding    string
	Partners, Contact          string
	// AdoptedFrom is the article of another city this one builds on.
	AdoptedFrom string
	Base        int64
}

func formFromRevision(r *wiki.Revision) editorForm {
	f := editorForm{Title: r.Title, Body: r.Body, Tags: strings.Join(r.Tags, ", "), Topics: r.Topics,
		Visibility: string(r.Visibility), Status: r.Status, Cost: r.Cost, CostBand: r.CostBand, Funding: r.Funding, Partners: r.Partners, Contact: r.Contact, AdoptedFrom: r.AdoptedFrom}
	if r.StartYear != 0 {
		f.StartYear = strconv.Itoa(r.StartYear)
	}
	return f
}

// parseEditor reads the editor's fields from a posted form.
func parseEditor(r *http.Request) (editorForm, error) {
	if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return editorFromValues(r.PostForm), err
	}
	return editorFromValues(r.PostForm), nil
}

func (f editorForm) draft(city string) (wiki.Draft, error) {
	d := wiki.Draft{City: city, Title: f.Title, Body: f.Body, Summary: f.Summary, Topics: f.Topics,
		Visibility: wiki.Visibility(f.Visibility), Experience: wiki.Experience{Status: f.Status, Cost: f.Cost,
			CostBand: f.CostBand, Funding: f.Funding, Partners: f.Partners, Contact: f.Contact, AdoptedFrom: f.AdoptedFrom}}
	for _, t := range strings.Split(f.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			d.Tags = append(d.Tags, t)
		}
	}
	if f.StartYear != "" {
		y, err := strconv.Atoi(f.StartYear)
		if err != nil {
			return d, &wiki.InvalidError{Field: "start_year", Key: "start_year.range", Message: "the start year must be a number"}
		}
		d.StartYear = y
	}
	return d, nil
}

// conflictView is the three-way diff of a change in conflict and the merge
// its editor starts from.
type conflictView struct {
	Base, Published, Proposed *wiki.Revision
	Theirs, Ours              template.HTML
	Merge                     *workflow.Merge
}

// Markers are the marker lines the merge writes, for the editor's help.
func (conflictView) Markers() []string {
	return []string{textdiff.MarkerOurs, textdiff.MarkerSep, textdiff.MarkerTheirs}
}

// formFromMerge starts the conflict editor from the merge, on top of the
// current publication; the edit summary is the author's to write anew.
func formFromMerge(m *workflow.Merge) editorForm {
	f := formFromRevision(&wiki.Revision{Title: m.Title, Body: m.Body, Topics: m.Topics, Tags: m.Tags,
		Visibility: m.Visibility, Experience: m.Experience})
	f.Base = m.BaseRevision
	return f
}

type editorModel struct {
	Page
	City     wiki.City
	Article  *wiki.Article    // nil for a new article
	Change   *workflow.Change // set when a proposal is edited
	Form     editorForm
	Topics   []wiki.Topic
	Statuses []string
	// CostBands to choose from, and the kept funding programmes offered
	// (the field takes any text).
	CostBands  []string
	Programmes []wiki.FundingProgramme
	Action     string
	Preview    template.HTML
	Error      string
	// ErrorLink, when set, leads from the error to what it is about (the
	// article or proposal that already has the title).
	ErrorLink *link
	Field     string
	Conflict  *conflictView
	// Pending: changes to the article already under way.
	Pending []workflow.Pending
	// Templates for a new article, and the one its text started from.
	Templates []wiki.Template
	Template  string
	autosaveView
}

func (s *Server) editorTopics(r *http.Request, m *editorModel) error {
	var err error
	m.Topics, err = s.store.Topics(r.Context())
	m.Statuses, m.CostBands = wiki.Statuses, wiki.CostBands
	if err == nil {
		m.Programmes, err = s.store.FundingProgrammes(r.Context(), false)
	}
	return err
}

func (s *Server) renderEditor(w http.ResponseWriter, r *http.Request, status int, m *editorModel) {
	if err := s.editorTopics(r, m); err != nil {
		s.serverError(w, r, err)
		return
	}
	if m.Article != nil && m.Change == nil {
		m.Pending, _ = s.workflow.PendingChanges(r.Context(), auth.FromContext(r.Context()), m.Article.ID) // a notice only
	}
	c := s.catalogs[language(r)]
	switch {
	case m.Change != nil:
		m.Title = c.T("edit.change_title", m.Change.Title)
	case m.Article != nil:
		m.Title = c.T("edit.title", m.Article.Revision.Title)
	default:
		m.Title = c.T("edit.new_title", m.City.Name)
	}
	s.editorAutosave(r, m)
	w.Header().Set("Cache-Control", privateNoStore)
	s.render(w, r, status, "edit", m)
}

func (s *Server) newArticlePage(w http.ResponseWriter, r *http.Request) {
	city, err := s.store.City(r.Context(), mux.Vars(r)["city"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	m := &editorModel{City: city, Form: editorForm{Visibility: string(wiki.Network)}, Action: s.url("article.new", "city", city.Slug)}
	if m.Templates, err = s.store.Templates(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	// A template starts the text (chosen by a plain GET form, so it works
	// without JavaScript).
	if name := r.URL.Query().Get("template"); name != "" {
		t, err := s.store.TemplateBySlug(r.Context(), name)
		if err != nil {
			s.htmlError(w, r, err)
			return
		}
		m.Form.Body, m.Template = t.Body, t.Slug
	}
	// Adopting another city's experience starts from its structure, with a
	// link to it (the "Übernehmen" link of an article).
	if ref := r.URL.Query().Get("adopt"); ref != "" {
		src := s.adoptedSource(r, wiki.Experience{AdoptedFrom: ref})
		if src == nil || src.City == city.Slug {
			s.htmlError(w, r, wiki.ErrNotFound)
			return
		}
		m.Form.AdoptedFrom = src.City + "/" + src.Slug
		m.Form.Topics = src.Revision.Topics
		m.Form.Body = adoptionBody(s.catalogs["de"].T("adopt.intro", s.cityName(src.City), m.Form.AdoptedFrom), src.Revision.TOC)
	}
	s.renderEditor(w, r, http.StatusOK, m)
}

func (s *Server) editArticlePage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	a, err := s.store.Article(ctx, s.readerOf(r), v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	city, err := s.store.City(ctx, a.City)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	from := &a.Revision
	// Restoring an old revision starts from its content, on top of the current one.
	if id, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64); id != 0 {
		if from, err = s.store.Revision(ctx, s.readerOf(r), a.City, a.Slug, id); err != nil {
			s.htmlError(w, r, err)
			return
		}
	}
	form := formFromRevision(from)
	form.Base = a.Revision.ID
	if from.ID != a.Revision.ID {
		form.Summary = s.catalogs[language(r)].T("edit.restore_summary", s.catalogs[language(r)].DateTime(from.CreatedAt))
	}
	m := &editorModel{City: city, Article: a, Form: form, Action: s.url("article.edit", "city", a.City, "slug", a.Slug)}
	s.renderEditor(w, r, http.StatusOK, m)
}

// editorSubmit handles the new-article and edit forms: preview, save as
// draft, or submit for review.
func (s *Server) editorSubmit(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	city, err := s.store.City(ctx, v["city"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	form, _ := parseEditor(r)
	m := &editorModel{City: city, Form: form, Action: r.URL.Path}
	if v["slug"] != "" {
		if m.Article, err = s.store.Article(ctx, s.readerOf(r), city.Slug, v["slug"]); err != nil {
			s.htmlError(w, r, err)
			return
		}
	}
	d, err := form.draft(city.Slug)
	if err == nil && r.PostFormValue("op") == "preview" {
		s.preview(w, r, m, city.Slug, form.Body)
		return
	}
	var c *workflow.Change
	if err == nil {
		p := workflow.Proposal{Draft: d, BaseRevision: form.Base, Submit: r.PostFormValue("op") == "submit"}
		if m.Article != nil {
			p.Slug = m.Article.Slug
		}
		c, err = s.workflow.Create(ctx, s.meta(r), p)
	}
	if err != nil {
		s.editorError(w, r, m, err)
		return
	}
	s.dropAutosave(r, editTarget{City: city.Slug, Slug: v["slug"]})
	s.flash(w, r, savedKey(c), s.url("change", "id", strconv.FormatInt(c.ID, 10)))
}

// savedKey is the message after the editor saved c: saved, or submitted
// and whom that told.
func savedKey(c *workflow.Change) string {
	if c.State != workflow.InReview || c.Notified == nil {
		return "edit.saved"
	}
	return "edit.submitted." + *c.Notified
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request, m *editorModel, city, body string) {
	res, err := s.store.Preview(r.Context(), s.readerOf(r), city, wiki.Visibility(m.Form.Visibility), body)
	if err != nil {
		s.editorError(w, r, m, err)
		return
	}
	warnings, err := s.warningsHTML(r, s.store.Renderer().Check([]byte(body)))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	m.Preview = warnings + template.HTML(res.HTML) // sanitized by the Markdown pipeline
	s.renderEditor(w, r, http.StatusOK, m)
}

// editorError shows the form again with the input kept and the reason.
func (s *Server) editorError(w http.ResponseWriter, r *http.Request, m *editorModel, err error) {
	c := s.catalogs[language(r)]
	var inv *wiki.InvalidError
	var taken *workflow.TakenError
	status, _ := statusOf(err)
	switch {
	case errors.As(err, &inv):
		m.Field = inv.Field
		m.Error = c.formText(err)
	case errors.As(err, &taken):
		m.Field = "title"
		m.Error, m.ErrorLink = s.takenText(r, taken)
	case status == http.StatusConflict:
		m.Error = c.T("edit.conflict")
	case status == http.StatusForbidden || status == http.StatusNotFound:
		s.htmlError(w, r, err)
		return
	case status == http.StatusInternalServerError:
		s.serverError(w, r, err)
		return
	default:
		m.Error = c.formText(err)
	}
	s.renderEditor(w, r, status, m)
}

// link is a link a page offers beside a message.
type link struct{ URL, Text string }

// takenText says which of the two cases took the title, with a link to the
// article or the proposal when this reader may open it.
func (s *Server) takenText(r *http.Request, e *workflow.TakenError) (string, *link) {
	c := s.catalogs[language(r)]
	ctx := r.Context()
	if e.Published {
		if _, err := s.store.Article(ctx, s.readerOf(r), e.City, e.Slug); err == nil {
			return c.T("edit.taken.published"), &link{URL: s.url("article", "city", e.City, "slug", e.Slug), Text: c.T("edit.taken.open_article")}
		}
		return c.T("edit.taken.published"), nil
	}
	if _, err := s.workflow.Get(ctx, auth.FromContext(ctx), e.Change); err == nil {
		return c.T("edit.taken.proposed"), &link{URL: s.url("change", "id", strconv.FormatInt(e.Change, 10)), Text: c.T("edit.taken.open_change", e.Change)}
	}
	return c.T("edit.taken.proposed_hidden"), nil
}

// maxPreviewForm bounds the form of a live preview: the Markdown limit
// plus room for percent-encoding (up to three bytes a byte) and the other
// fields. The Markdown itself is held to wiki.MaxBodyBytes by Preview.
const maxPreviewForm = 3*wiki.MaxBodyBytes + 64<<10

// previewFragment renders Markdown for the editor's live preview. It
// answers an HTML fragment produced by the same sanitizing pipeline as
// saved revisions, with wiki links as this reader may see them; a text
// too large to save is 413, and rendering stops when the client leaves.
func (s *Server) previewFragment(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPreviewForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "text too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	city := r.PostFormValue("city")
	if _, err := s.store.City(r.Context(), city); err != nil {
		http.Error(w, "unknown city", http.StatusBadRequest)
		return
	}
	res, err := s.store.Preview(r.Context(), s.readerOf(r), city, wiki.Visibility(r.PostFormValue("visibility")), r.PostFormValue("body"))
	switch {
	case errors.Is(err, wiki.ErrTooLarge):
		http.Error(w, "text too large", http.StatusRequestEntityTooLarge)
		return
	case r.Context().Err() != nil:
		return // the client left; nobody reads an answer
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	warnings, err := s.warningsHTML(r, s.store.Renderer().Check([]byte(r.PostFormValue("body"))))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", privateNoStore)
	w.Write([]byte(warnings))
	w.Write([]byte(res.HTML))
}

// changeEditPage edits a proposal: a draft, one with requested changes, or
// one in conflict, which is rebased onto the current publication.
func (s *Server) changeEditPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, m, err := s.changeEditor(r)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	if m.Conflict != nil {
		m.Form = formFromMerge(m.Conflict.Merge)
		s.renderEditor(w, r, http.StatusOK, m)
		return
	}
	rev, err := s.workflow.Revision(ctx, c, c.Revision)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	base := m.Form.Base
	m.Form = formFromRevision(rev)
	m.Form.Base = base
	s.renderEditor(w, r, http.StatusOK, m)
}

// changeEditor loads the request's change and prepares the editor for it;
// for a conflict it holds the three-way diff and bases the edit on the
// current publication.
func (s *Server) changeEditor(r *http.Request) (*workflow.Change, *editorModel, error) {
	ctx := r.Context()
	c, err := s.workflow.Get(ctx, auth.FromContext(ctx), changeID(r))
	if err != nil {
		return nil, nil, err
	}
	if err := s.workflow.MayEdit(auth.FromContext(ctx), c); err != nil {
		return nil, nil, err
	}
	city, err := s.store.City(ctx, c.City)
	if err != nil {
		return nil, nil, err
	}
	m := &editorModel{City: city, Change: c, Action: s.url("change.edit", "id", strconv.FormatInt(c.ID, 10))}
	if c.BaseRevision != nil {
		m.Form.Base = *c.BaseRevision
	}
	if c.State == workflow.Conflict {
		if m.Conflict, err = s.conflict(r, c); err != nil {
			return nil, nil, err
		}
		m.Form.Base = m.Conflict.Merge.BaseRevision
	}
	return c, m, nil
}

// conflict is ErrForbidden for someone who may no longer read the current
// publication (workflow.Merge decides).
func (s *Server) conflict(r *http.Request, c *workflow.Change) (*conflictView, error) {
	ctx := r.Context()
	m, err := s.workflow.Merge(ctx, auth.FromContext(ctx), c)
	if err != nil {
		return nil, err
	}
	cv := &conflictView{Base: m.Base, Published: m.Published, Proposed: m.Proposed, Merge: m}
	cat := s.catalogs[language(r)]
	cv.Theirs = template.HTML(cat.diffHTML(textdiff.Prose(cv.Base.Body, cv.Published.Body)))
	cv.Ours = template.HTML(cat.diffHTML(textdiff.Prose(cv.Base.Body, cv.Proposed.Body)))
	return cv, nil
}

func (s *Server) changeEditSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, m, err := s.changeEditor(r)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	form, _ := parseEditor(r)
	m.Form = form
	d, err := form.draft(c.City)
	if err == nil && r.PostFormValue("op") == "preview" {
		s.preview(w, r, m, c.City, form.Body)
		return
	}
	if err == nil {
		c, err = s.workflow.Update(ctx, s.meta(r), c.ID, d, form.Base)
	}
	if err == nil && r.PostFormValue("op") == "submit" && c.State != workflow.InReview {
		c, err = s.workflow.Submit(ctx, s.meta(r), c.ID, "")
	}
	if err != nil {
		s.editorError(w, r, m, err)
		return
	}
	s.dropAutosave(r, editTarget{Change: c.ID})
	s.flash(w, r, savedKey(c), s.url("change", "id", strconv.FormatInt(c.ID, 10)))
}

// warningsHTML renders the accessibility warnings of a text for the
// preview and the review page (partial "a11y-warnings").
func (s *Server) warningsHTML(r *http.Request, list []markdown.Warning) (template.HTML, error) {
	if len(list) == 0 {
		return "", nil
	}
	var b strings.Builder
	if err := s.tmpl.byLang[language(r)]["edit"].ExecuteTemplate(&b, "a11y-warnings", list); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// adoptionBody is the start of an article that adopts another: the link to
// it, and its section headings to fill in with this city's experience.
func adoptionBody(intro string, toc []markdown.Heading) string {
	var b strings.Builder
	b.WriteString(intro + "\n")
	for _, h := range toc {
		if h.Level == 2 {
			b.WriteString("\n## " + h.Text + "\n\n")
		}
	}
	return b.String()
}
