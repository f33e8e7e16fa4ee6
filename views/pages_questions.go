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
	"hansewiki/workflow"
)

// Question pages (issue 13): members only, rendered per request (never
// from the page cache), as the asker's "hilfreich" buttons are theirs.

type questionsModel struct {
	Page
	Questions []*workflow.Question
	Topics    []wiki.Topic
	Cities    []wiki.City
	Topic     string
	City      string
	OpenOnly  bool
	Error     string
	Form      workflow.NewQuestion
}

type questionModel struct {
	Page
	Q       *workflow.Question
	Body    template.HTML
	Answers []renderedAnswer
	Asker   bool
	Error   string
	Form    answerBody
	// The asker's edit form (open when EditError is set), with the
	// topics and cities to choose from.
	EditError string
	EditForm  workflow.NewQuestion
	Topics    []wiki.Topic
	Cities    []wiki.City
	// AnswerError is the error of answer AnswerErrorID's edit form.
	AnswerError   string
	AnswerErrorID int64
}

type renderedAnswer struct {
	workflow.Answer
	HTML template.HTML
}

// renderText renders a member's Markdown through the articles' sanitizing
// renderer. Wiki links resolve to articles the reader may read, never
// with another article's title.
func (s *Server) renderText(r *http.Request, src string) template.HTML {
	reader := s.workflow.Reader(auth.FromContext(r.Context()))
	res, err := s.store.Renderer().RenderContext(r.Context(), []byte(src), "", func(targets []markdown.Link) ([]markdown.Target, error) {
		out := make([]markdown.Target, len(targets))
		for i, l := range targets {
			_, err := s.store.Article(r.Context(), reader, l.City, l.Slug)
			out[i].Exists = err == nil
		}
		return out, nil
	})
	if err != nil {
		s.log.Warn("rendering a question", "err", err)
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(res.HTML)
}

func (s *Server) questionsPage(w http.ResponseWriter, r *http.Request) {
	s.showQuestions(w, r, http.StatusOK, "", workflow.NewQuestion{})
}

func (s *Server) showQuestions(w http.ResponseWriter, r *http.Request, status int, formErr string, form workflow.NewQuestion) {
	id := auth.FromContext(r.Context())
	q := r.URL.Query()
	m := &questionsModel{Topic: q.Get("topic"), City: q.Get("city"), OpenOnly: q.Get("open") != "0", Error: formErr, Form: form}
	m.Nav, m.Title = "questions", s.catalogs[language(r)].T("questions.title")
	var err error
	if m.Topics, err = s.store.Topics(r.Context()); err == nil {
		m.Cities, err = s.store.Cities(r.Context())
	}
	if err == nil {
		m.Questions, err = s.workflow.Questions(r.Context(), id, workflow.QuestionFilter{Topic: m.Topic, City: m.City, OpenOnly: m.OpenOnly})
	}
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.render(w, r, status, "questions", m)
}

func (s *Server) questionAsk(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := workflow.NewQuestion{Title: r.PostForm.Get("title"), Body: r.PostForm.Get("body"),
		Topics: r.PostForm["topics"], Cities: r.PostForm["cities"]}
	q, err := s.workflow.Ask(r.Context(), s.meta(r), form)
	var inv *wiki.InvalidError
	switch {
	case err == nil:
		http.Redirect(w, r, s.url("question", "id", strconv.FormatInt(q.ID, 10)), http.StatusSeeOther)
	case errors.As(err, &inv):
		s.showQuestions(w, r, http.StatusUnprocessableEntity, s.catalogs[language(r)].errorText(err), form)
	default:
		s.htmlError(w, r, err)
	}
}

func (s *Server) questionPage(w http.ResponseWriter, r *http.Request) {
	s.showQuestion(w, r, http.StatusOK, "", answerBody{})
}

func (s *Server) showQuestion(w http.ResponseWriter, r *http.Request, status int, formErr string, form answerBody) {
	s.showQuestionWith(w, r, status, func(m *questionModel) { m.Error, m.Form = formErr, form })
}

func (s *Server) showQuestionWith(w http.ResponseWriter, r *http.Request, status int, set func(*questionModel)) {
	id := auth.FromContext(r.Context())
	q, err := s.workflow.Question(r.Context(), id, pathID(r, "id"))
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	if id != nil {
		if err := s.workflow.MarkQuestionRead(r.Context(), id, q.ID); err != nil {
			s.log.Warn("marking question notifications read", "err", err)
		}
	}
	m := &questionModel{Q: q, Body: s.renderText(r, q.Body), Asker: id != nil && id.UserID == q.AuthorID,
		EditForm: workflow.NewQuestion{Title: q.Title, Body: q.Body, Topics: q.Topics, Cities: q.Cities}}
	set(m)
	m.Nav, m.Title = "questions", q.Title
	for _, a := range q.Answers {
		m.Answers = append(m.Answers, renderedAnswer{Answer: a, HTML: s.renderText(r, a.Body)})
	}
	if q.Can.Edit {
		if m.Topics, err = s.store.Topics(r.Context()); err == nil {
			m.Cities, err = s.store.Cities(r.Context())
		}
		if err != nil {
			s.htmlError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "question", m)
}

func (s *Server) questionAnswer(w http.ResponseWriter, r *http.Request) {
	form := answerBody{Body: r.PostFormValue("body"), Articles: strings.Fields(r.PostFormValue("articles"))}
	_, err := s.workflow.Answer(r.Context(), s.meta(r), pathID(r, "id"), form.Body, form.Articles)
	var inv *wiki.InvalidError
	switch {
	case err == nil:
		http.Redirect(w, r, s.url("question", "id", mux.Vars(r)["id"])+"#antworten", http.StatusSeeOther)
	case errors.As(err, &inv):
		s.showQuestion(w, r, http.StatusUnprocessableEntity, s.catalogs[language(r)].errorText(err), form)
	default:
		s.htmlError(w, r, err)
	}
}

func (s *Server) questionHelpful(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("helpful") != "off"
	if _, err := s.workflow.MarkHelpful(r.Context(), s.meta(r), pathID(r, "id"), pathID(r, "aid"), on); err != nil {
		s.htmlError(w, r, err)
		return
	}
	http.Redirect(w, r, s.url("question", "id", mux.Vars(r)["id"])+"#antwort-"+mux.Vars(r)["aid"], http.StatusSeeOther)
}

// topicWatch starts or stops watching a topic (form field "watch").
func (s *Server) topicWatch(w http.ResponseWriter, r *http.Request) {
	topic := mux.Vars(r)["topic"]
	on := r.PostFormValue("watch") == "on"
	if err := s.workflow.WatchTopic(r.Context(), auth.FromContext(r.Context()), topic, on); err != nil {
		s.htmlError(w, r, err)
		return
	}
	key := "topic.watch_stopped"
	if on {
		key = "topic.watch_started"
	}
	s.flash(w, r, key, s.url("topic", "topic", topic))
}

// cityWatch starts or stops watching a city (form field "watch"): its
// publications reach the member's weekly digest.
func (s *Server) cityWatch(w http.ResponseWriter, r *http.Request) {
	city := mux.Vars(r)["city"]
	on := r.PostFormValue("watch") == "on"
	if err := s.workflow.WatchCity(r.Context(), auth.FromContext(r.Context()), city, on); err != nil {
		s.htmlError(w, r, err)
		return
	}
	key := "city.watch_stopped"
	if on {
		key = "city.watch_started"
	}
	s.flash(w, r, key, s.url("city", "city", city))
}

// openQuestions lists up to ten open questions for a topic or city page;
// none for anonymous visitors. The pages are cached per role set, which
// is fine: every member sees the same questions, and asking or marking an
// answer helpful flushes the cache (workflow.questionsChanged).
func (s *Server) openQuestions(r *http.Request, f workflow.QuestionFilter) ([]*workflow.Question, error) {
	id := auth.FromContext(r.Context())
	if id == nil {
		return nil, nil
	}
	f.OpenOnly, f.Limit = true, 10
	return s.workflow.Questions(r.Context(), id, f)
}

// questionEdit saves the asker's edit of a question.
func (s *Server) questionEdit(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	form := workflow.NewQuestion{Title: r.PostForm.Get("title"), Body: r.PostForm.Get("body"),
		Topics: r.PostForm["topics"], Cities: r.PostForm["cities"]}
	_, err := s.workflow.EditQuestion(r.Context(), s.meta(r), pathID(r, "id"), form)
	var inv *wiki.InvalidError
	switch {
	case err == nil:
		s.flash(w, r, "question.edited", s.url("question", "id", mux.Vars(r)["id"]))
	case errors.As(err, &inv):
		s.showQuestionWith(w, r, http.StatusUnprocessableEntity, func(m *questionModel) {
			m.EditError, m.EditForm = s.catalogs[language(r)].errorText(err), form
		})
	default:
		s.htmlError(w, r, err)
	}
}

// questionClose closes (form field closed=on) or reopens a question.
func (s *Server) questionClose(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("closed") != "off"
	if _, err := s.workflow.CloseQuestion(r.Context(), s.meta(r), pathID(r, "id"), on); err != nil {
		s.htmlError(w, r, err)
		return
	}
	key := "question.reopened"
	if on {
		key = "question.closed"
	}
	s.flash(w, r, key, s.url("question", "id", mux.Vars(r)["id"]))
}

// questionHide hides a question; the form is behind a confirming step.
func (s *Server) questionHide(w http.ResponseWriter, r *http.Request) {
	if err := s.workflow.HideQuestion(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "question.hidden", s.url("questions"))
}

// answerEdit saves an answer's author's edit.
func (s *Server) answerEdit(w http.ResponseWriter, r *http.Request) {
	body, articles := r.PostFormValue("body"), strings.Fields(r.PostFormValue("articles"))
	aid := pathID(r, "aid")
	_, err := s.workflow.EditAnswer(r.Context(), s.meta(r), pathID(r, "id"), aid, body, articles)
	var inv *wiki.InvalidError
	switch {
	case err == nil:
		s.flash(w, r, "answer.edited", s.url("question", "id", mux.Vars(r)["id"])+"#antwort-"+mux.Vars(r)["aid"])
	case errors.As(err, &inv):
		s.showQuestionWith(w, r, http.StatusUnprocessableEntity, func(m *questionModel) {
			m.AnswerError, m.AnswerErrorID = s.catalogs[language(r)].errorText(err), aid
		})
	default:
		s.htmlError(w, r, err)
	}
}

// answerHide hides an answer; the form is behind a confirming step.
func (s *Server) answerHide(w http.ResponseWriter, r *http.Request) {
	if _, err := s.workflow.HideAnswer(r.Context(), s.meta(r), pathID(r, "id"), pathID(r, "aid")); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "answer.hidden", s.url("question", "id", mux.Vars(r)["id"])+"#antworten")
}
