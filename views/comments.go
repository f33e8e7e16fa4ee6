package views

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// Comments on articles (issue 13): the API, the forms below an article,
// and the personal part that gives a comment's author its edit and delete
// controls while the edit window lasts.

// commentJSON is a comment in the API; a removed comment (deleted by its
// author, hidden by an admin) keeps its place above its replies with an
// empty body.
type commentJSON struct {
	ID         int64     `json:"id"`
	Author     string    `json:"author"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	HTML       string    `json:"html"`
	Parent     *int64    `json:"parent"`
	CreatedAt  time.Time `json:"created_at"`
	Edited     bool      `json:"edited"`
	Removed    bool      `json:"removed"`
}

func commentOf(c *workflow.ArticleComment) commentJSON {
	return commentJSON{ID: c.ID, Author: c.Author, AuthorName: c.AuthorName, Body: c.Body, HTML: string(c.HTML),
		Parent: c.Parent, CreatedAt: c.CreatedAt, Edited: c.Edited, Removed: c.Removed}
}

type articleCommentBody struct {
	Body   string `json:"body"`
	Parent *int64 `json:"parent"`
}

// maxCommentRequest bounds a comment request: the Markdown limit in runes,
// each up to four bytes, each byte up to six in JSON escaping.
const maxCommentRequest = 24*workflow.MaxCommentRunes + 1<<10

func (s *Server) apiComments(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	t, err := s.workflow.ArticleComments(r.Context(), auth.FromContext(r.Context()), v["city"], v["slug"])
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := []commentJSON{}
	for _, c := range t.Flat() {
		out = append(out, commentOf(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiCommentCreate(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	var b articleCommentBody
	if err := decodeJSON(w, r, &b, maxCommentRequest); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := s.workflow.AddArticleComment(r.Context(), s.meta(r), v["city"], v["slug"], b.Body, b.Parent)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	// As the list shows it, rendered for the article's readers.
	t, err := s.workflow.ArticleComments(r.Context(), auth.FromContext(r.Context()), v["city"], v["slug"])
	if err == nil {
		for _, x := range t.Flat() {
			if x.ID == c.ID {
				c = x
			}
		}
	}
	writeJSON(w, http.StatusCreated, commentOf(c))
}

// apiCommentEdit replaces the body of the caller's own comment while the
// edit window lasts (workflow.EditArticleComment's rule, as the form's).
func (s *Server) apiCommentEdit(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(w, r, &b, maxCommentRequest); err != nil {
		s.apiError(w, r, err)
		return
	}
	id := pathID(r, "id")
	a, err := s.workflow.EditArticleComment(r.Context(), s.meta(r), id, b.Body)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeComment(w, r, a.City, a.Slug, id)
}

// noBody checks the body of a request that needs none: empty, or a JSON
// object without fields; anything else is refused as any bad body is.
func noBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var none struct{}
	return decodeJSON(w, r, &none, 1<<10)
}

// apiCommentDelete removes the caller's own comment while the edit window
// lasts.
func (s *Server) apiCommentDelete(w http.ResponseWriter, r *http.Request) {
	if err := noBody(w, r); err != nil {
		s.apiError(w, r, err)
		return
	}
	if _, err := s.workflow.DeleteArticleComment(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiCommentHide hides a comment: admins of the article's city and
// network admins (workflow.HideComment's rule, as the form's).
func (s *Server) apiCommentHide(w http.ResponseWriter, r *http.Request) {
	if err := noBody(w, r); err != nil {
		s.apiError(w, r, err)
		return
	}
	if _, err := s.workflow.HideComment(r.Context(), s.meta(r), pathID(r, "id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeComment answers with comment id as the article's list shows it.
func (s *Server) writeComment(w http.ResponseWriter, r *http.Request, city, slug string, id int64) {
	t, err := s.workflow.ArticleComments(r.Context(), auth.FromContext(r.Context()), city, slug)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	for _, c := range t.Flat() {
		if c.ID == id {
			writeJSON(w, http.StatusOK, commentOf(c))
			return
		}
	}
	s.apiError(w, r, fmt.Errorf("comment %d: %w", id, wiki.ErrNotFound))
}

// commentPost writes a comment or a reply from the form below an article.
func (s *Server) commentPost(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	var parent *int64
	if p := r.PostFormValue("parent"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			s.htmlError(w, r, fmt.Errorf("parent: %w", errBadRequest))
			return
		}
		parent = &n
	}
	c, err := s.workflow.AddArticleComment(r.Context(), s.meta(r), v["city"], v["slug"], r.PostFormValue("body"), parent)
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "comment.saved", s.url("article", "city", v["city"], "slug", v["slug"])+"#comment-"+strconv.FormatInt(c.ID, 10))
}

func (s *Server) commentEdit(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "id")
	a, err := s.workflow.EditArticleComment(r.Context(), s.meta(r), id, r.PostFormValue("body"))
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "comment.edited", s.url("article", "city", a.City, "slug", a.Slug)+"#comment-"+strconv.FormatInt(id, 10))
}

func (s *Server) commentDelete(w http.ResponseWriter, r *http.Request) {
	a, err := s.workflow.DeleteArticleComment(r.Context(), s.meta(r), pathID(r, "id"))
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "comment.deleted", s.url("article", "city", a.City, "slug", a.Slug)+"#comments-title")
}

func (s *Server) commentHide(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if err := s.workflow.HideArticleComment(r.Context(), s.meta(r), v["city"], v["slug"], pathID(r, "id")); err != nil {
		s.htmlError(w, r, err)
		return
	}
	s.flash(w, r, "comment.hidden", s.url("article", "city", v["city"], "slug", v["slug"])+"#comments-title")
}

// commentControls is the personal part "comment": the edit and delete
// forms of a comment, for its author while the edit window lasts.
type commentControls struct {
	ID   int64
	Body string
	CSRF string
}
