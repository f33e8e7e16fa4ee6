package views

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// changeBody is the JSON of POST and PUT /api/v1/changes: the content of a
// revision with the experience-report fields.
type changeBody struct {
	City         string   `json:"city"`
	Slug         string   `json:"slug"`
	BaseRevision int64    `json:"base_revision"`
	Title        string   `json:"title"`
	Body         string   `json:"body"`
	Summary      string   `json:"summary"`
	Topics       []string `json:"topics"`
	Tags         []string `json:"tags"`
	Visibility   string   `json:"visibility"`
	Submit       bool     `json:"submit"`
	Status       string   `json:"status"`
	StartYear    *int     `json:"start_year"`
	Cost         string   `json:"cost"`
	CostBand     string   `json:"cost_band"`
	Funding      string   `json:"funding"`
	Partners     string   `json:"partners"`
	Contact      string   `json:"contact"`
	AdoptedFrom  string   `json:"adopted_from"`
}

func (b changeBody) draft() wiki.Draft {
	d := wiki.Draft{City: b.City, Title: b.Title, Body: b.Body, Summary: b.Summary, Topics: b.Topics, Tags: b.Tags,
		Visibility: wiki.Visibility(b.Visibility), Experience: wiki.Experience{Status: b.Status, Cost: b.Cost, CostBand: b.CostBand,
			Funding: b.Funding, Partners: b.Partners, Contact: b.Contact, AdoptedFrom: b.AdoptedFrom}}
	if b.StartYear != nil {
		d.StartYear = *b.StartYear
	}
	return d
}

// The limit counts the Markdown, not its JSON escaping: a byte of Markdown
// may take six in JSON (\u001f), so the body is read up to six times the
// limit, and the draft's validation holds the decoded Markdown to
// wiki.MaxBodyBytes (413).
const maxChangeBody = 6*wiki.MaxBodyBytes + 64<<10

func (s *Server) meta(r *http.Request) workflow.Meta {
	return workflow.Meta{Identity: auth.FromContext(r.Context()), Addr: clientAddr(r)}
}

func (s *Server) apiChangeCreate(w http.ResponseWriter, r *http.Request) {
	var b changeBody
	if err := decodeJSON(w, r, &b, maxChangeBody); err != nil {
		s.apiError(w, r, err)
		return
	}
	if b.City == "" {
		s.apiError(w, r, &wiki.InvalidError{Field: "city", Key: "city.unknown", Message: "city is required"})
		return
	}
	c, err := s.workflow.Create(r.Context(), s.meta(r), workflow.Proposal{Draft: b.draft(), Slug: b.Slug, BaseRevision: b.BaseRevision, Submit: b.Submit})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) apiChanges(w http.ResponseWriter, r *http.Request) {
	state, err := enumParam(r, "state", workflow.States)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	mine, err := enumParam(r, "mine", []string{"true", "false", "1", "0"})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	review, err := enumParam(r, "review", []string{"true", "false", "1", "0"})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f := workflow.Filter{State: state, City: r.URL.Query().Get("city"), Mine: mine == "true" || mine == "1"}
	var list []*workflow.Change
	if review == "true" || review == "1" {
		// The review queue, as the HTML page shows it: by due date.
		list, err = s.workflow.ReviewQueue(r.Context(), auth.FromContext(r.Context()), f.City)
	} else {
		list, err = s.workflow.List(r.Context(), auth.FromContext(r.Context()), f)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if list == nil {
		list = []*workflow.Change{}
	}
	writeJSON(w, http.StatusOK, list)
}

func changeID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	return id
}

func (s *Server) apiChange(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	c, err := s.workflow.Get(r.Context(), id, changeID(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	// A change in conflict carries the merge to start the rebase from,
	// unless there is none to show: the caller may no longer read the
	// current publication, or the article has none.
	if c.State == workflow.Conflict {
		c.Merge, err = s.workflow.Merge(r.Context(), id, c)
		if err != nil && !noMerge(err) {
			s.apiError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, c)
}

// noMerge reports whether workflow.Merge refused for a reason that only
// means there is no merge to show.
func noMerge(err error) bool {
	return errors.Is(err, wiki.ErrForbidden) || errors.Is(err, wiki.ErrConflict)
}

func (s *Server) apiChangeUpdate(w http.ResponseWriter, r *http.Request) {
	var b changeBody
	if err := decodeJSON(w, r, &b, maxChangeBody); err != nil {
		s.apiError(w, r, err)
		return
	}
	if b.City != "" || b.Slug != "" || b.Submit {
		s.apiError(w, r, fmt.Errorf("city, slug and submit cannot be changed with PUT: %w", errBadRequest))
		return
	}
	// The workflow answers 404 to whoever may not see the change.
	c, err := s.workflow.Update(r.Context(), s.meta(r), changeID(r), b.draft(), b.BaseRevision)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// commentBody is what submit and withdraw take.
type commentBody struct {
	Comment string `json:"comment"`
}

// decisionBody is what approve, request-changes and reject take: the
// revision the reviewer read (0: not given).
type decisionBody struct {
	Comment  string `json:"comment"`
	Revision int64  `json:"revision"`
}

// apiChangeAction runs one transition: submit, approve, request-changes,
// reject or withdraw.
func (s *Server) apiChangeAction(w http.ResponseWriter, r *http.Request) {
	a := workflow.Action(mux.Vars(r)["action"])
	var b decisionBody
	if r.ContentLength != 0 {
		var err error
		switch a {
		case workflow.ActApprove, workflow.ActRequestChanges, workflow.ActReject:
			err = decodeJSON(w, r, &b, 64<<10)
		default:
			var cb commentBody
			err = decodeJSON(w, r, &cb, 64<<10)
			b.Comment = cb.Comment
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	// The workflow answers 404 to whoever may not see the change.
	c, err := s.runAction(r, a, b.Comment, b.Revision)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) runAction(r *http.Request, a workflow.Action, comment string, revision int64) (*workflow.Change, error) {
	ctx, m, id := r.Context(), s.meta(r), changeID(r)
	switch a {
	case workflow.ActSubmit:
		return s.workflow.Submit(ctx, m, id, comment)
	case workflow.ActApprove:
		return s.workflow.Approve(ctx, m, id, comment, revision)
	case workflow.ActRequestChanges:
		return s.workflow.RequestChanges(ctx, m, id, comment, revision)
	case workflow.ActReject:
		return s.workflow.Reject(ctx, m, id, comment, revision)
	case workflow.ActWithdraw:
		return s.workflow.Withdraw(ctx, m, id, comment)
	}
	return nil, wiki.ErrNotFound
}

// auditScope is which cities' events id may read: all for network
// administrators, their own cities for city administrators.
func (s *Server) auditScope(id *auth.Identity) []string {
	cities := s.auth.CitiesWhere(id, auth.ManageCity)
	for _, c := range cities {
		if c == auth.AllCities {
			return nil
		}
	}
	if cities == nil {
		cities = []string{}
	}
	return cities
}

func (s *Server) auditFilter(r *http.Request) workflow.AuditFilter {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := workflow.AuditFilter{Object: strings.TrimSpace(q.Get("object")), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Cities: s.auditScope(auth.FromContext(r.Context())), Before: before, Limit: limit}
	// A city narrows the scope, never widens it.
	if city := q.Get("city"); city != "" {
		if f.Cities == nil || slices.Contains(f.Cities, city) {
			f.Cities = []string{city}
		} else {
			f.Cities = []string{}
		}
	}
	// Days in the reader's time zone: from the start of "from" to the end of "to".
	if d, err := time.ParseInLocation("2006-01-02", q.Get("from"), berlin); err == nil {
		f.Since = d
	}
	if d, err := time.ParseInLocation("2006-01-02", q.Get("to"), berlin); err == nil {
		f.Until = d.AddDate(0, 0, 1)
	}
	return f
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	events, err := workflow.Audit(r.Context(), s.store.Pool(), s.auditFilter(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if events == nil {
		events = []workflow.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, events)
}
