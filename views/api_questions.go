package views

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/workflow"
)

// Questions across cities (issue 13): members only, network-visible.

type questionBody struct {
	Title  string   `json:"title"`
	Body   string   `json:"body"`
	Topics []string `json:"topics"`
	Cities []string `json:"cities"`
}

type answerBody struct {
	Body     string   `json:"body"`
	Articles []string `json:"articles"`
}

type helpfulBody struct {
	Helpful *bool `json:"helpful"`
}

// The limits count Markdown, not its JSON escaping (see maxChangeBody).
const maxQuestionBody = 6*(workflow.MaxQuestionBody+workflow.MaxQuestionTitle) + 64<<10

func pathID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)[name], 10, 64)
	return id
}

func (s *Server) apiQuestions(w http.ResponseWriter, r *http.Request) {
	open, err := enumParam(r, "open", []string{"true", "false", "1", "0"})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	list, err := s.workflow.Questions(r.Context(), auth.FromContext(r.Context()),
		workflow.QuestionFilter{Topic: q.Get("topic"), City: q.Get("city"), Text: q.Get("q"), OpenOnly: open == "true" || open == "1"})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []*workflow.Question{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiQuestionCreate(w http.ResponseWriter, r *http.Request) {
	var b questionBody
	if err := decodeJSON(w, r, &b, maxQuestionBody); err != nil {
		s.apiError(w, r, err)
		return
	}
	q, err := s.workflow.Ask(r.Context(), s.meta(r), workflow.NewQuestion{Title: b.Title, Body: b.Body, Topics: b.Topics, Cities: b.Cities})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, q)
}

func (s *Server) apiQuestion(w http.ResponseWriter, r *http.Request) {
	q, err := s.workflow.Question(r.Context(), auth.FromContext(r.Context()), pathID(r, "id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

func (s *Server) apiAnswerCreate(w http.ResponseWriter, r *http.Request) {
	var b answerBody
	if err := decodeJSON(w, r, &b, 6*workflow.MaxAnswerBody+64<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	q, err := s.workflow.Answer(r.Context(), s.meta(r), pathID(r, "id"), b.Body, b.Articles)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, q)
}

// apiAnswerHelpful marks an answer helpful; {"helpful": false} takes the
// mark back. Only the asker may.
func (s *Server) apiAnswerHelpful(w http.ResponseWriter, r *http.Request) {
	var b helpfulBody
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &b, 1<<10); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	on := b.Helpful == nil || *b.Helpful
	q, err := s.workflow.MarkHelpful(r.Context(), s.meta(r), pathID(r, "id"), pathID(r, "aid"), on)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

type closeBody struct {
	Closed *bool `json:"closed"`
}

// apiQuestionEdit replaces what the asker asked, while the rule allows it
// (workflow.QuestionCapabilities: until answered or closed).
func (s *Server) apiQuestionEdit(w http.ResponseWriter, r *http.Request) {
	var b questionBody
	if err := decodeJSON(w, r, &b, maxQuestionBody); err != nil {
		s.apiError(w, r, err)
		return
	}
	q, err := s.workflow.EditQuestion(r.Context(), s.meta(r), pathID(r, "id"), workflow.NewQuestion{Title: b.Title, Body: b.Body, Topics: b.Topics, Cities: b.Cities})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// apiQuestionClose closes a question (resolved); {"closed": false} reopens
// it. The asker and the question's moderators.
func (s *Server) apiQuestionClose(w http.ResponseWriter, r *http.Request) {
	var b closeBody
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &b, 1<<10); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	q, err := s.workflow.CloseQuestion(r.Context(), s.meta(r), pathID(r, "id"), b.Closed == nil || *b.Closed)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// apiQuestionHide hides a question for everybody: its moderators.
func (s *Server) apiQuestionHide(w http.ResponseWriter, r *http.Request) {
	if err := noBody(w, r); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.workflow.HideQuestion(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiAnswerEdit replaces an answer's text and links: its author, for 15
// minutes after writing it.
func (s *Server) apiAnswerEdit(w http.ResponseWriter, r *http.Request) {
	var b answerBody
	if err := decodeJSON(w, r, &b, 6*workflow.MaxAnswerBody+64<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	q, err := s.workflow.EditAnswer(r.Context(), s.meta(r), pathID(r, "id"), pathID(r, "aid"), b.Body, b.Articles)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// apiAnswerHide hides an answer for everybody: the question's moderators.
func (s *Server) apiAnswerHide(w http.ResponseWriter, r *http.Request) {
	if err := noBody(w, r); err != nil {
		s.apiError(w, r, err)
		return
	}
	q, err := s.workflow.HideAnswer(r.Context(), s.meta(r), pathID(r, "id"), pathID(r, "aid"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}
