package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// decodeJSON reads one JSON value into v: at most limit bytes, valid UTF-8
// only (encoding/json would quietly replace bad bytes), no unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("the request body exceeds %d bytes: %w", limit, wiki.ErrTooLarge)
	}
	if err != nil {
		return fmt.Errorf("reading the request: %w", errBadRequest)
	}
	if !utf8.Valid(body) {
		return fmt.Errorf("the request body is not valid UTF-8: %w", errBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON: %v: %w", err, errBadRequest)
	}
	if dec.More() {
		return fmt.Errorf("malformed JSON: more than one value: %w", errBadRequest)
	}
	return checkDecoded(reflect.ValueOf(v))
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req, 4<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	// A device cookie, if the client keeps one, counts as for the form; the
	// API sets none (scripts keep no cookies, and this login sets no
	// ambient credential).
	in, err := s.auth.Login(r.Context(), attempt(r, req.Username, req.Password, false))
	if err != nil {
		s.loginFailed(w, r, err)
		return
	}
	secret, tok, err := s.auth.LoginToken(r.Context(), in.Identity)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{Token: secret, ExpiresAt: *tok.ExpiresAt})
}

// loginFailed answers a failed login, telling a throttled client when to retry.
func (s *Server) loginFailed(w http.ResponseWriter, r *http.Request, err error) {
	var th *auth.ThrottledError
	if errors.As(err, &th) {
		w.Header().Set("Retry-After", strconv.Itoa(th.Seconds()))
	}
	s.apiError(w, r, err)
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	if authMethod(r.Context()) == viaToken {
		secret := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err := s.auth.RevokeSecret(r.Context(), secret); err != nil {
			s.apiError(w, r, err)
			return
		}
	} else if err := s.sessions.Destroy(r.Context()); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Roles       []meRole `json:"roles"`
}

// meRole is one of the caller's roles; until is its last day
// ("2027-03-31") when it ends by itself.
type meRole struct {
	City  string `json:"city"`
	Role  string `json:"role"`
	Until string `json:"until,omitempty"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	id := auth.FromContext(r.Context())
	roles := make([]meRole, 0, len(id.Grants))
	var ending []auth.Member
	if len(id.Grants) > 0 {
		var err error
		if ending, err = s.auth.EndingRoles(r.Context(), id.Username); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	for _, g := range id.Grants {
		role := meRole{City: g.City, Role: g.Role}
		for _, e := range ending {
			if e.City == g.City && e.Role == g.Role && e.Until != nil {
				role.Until = e.Until.Format(time.DateOnly)
			}
		}
		roles = append(roles, role)
	}
	writeJSON(w, http.StatusOK, meResponse{Username: id.Username, DisplayName: id.DisplayName, Roles: roles})
}

type cityUpdate struct {
	RequiredApprovals *int `json:"required_approvals"`
	ReviewDays        *int `json:"review_days"`
}

// apiCityUpdate sets the city's review policy: required_approvals,
// review_days or both (what is left out stays).
func (s *Server) apiCityUpdate(w http.ResponseWriter, r *http.Request) {
	var req cityUpdate
	if err := decodeJSON(w, r, &req, 4<<10); err != nil {
		s.apiError(w, r, err)
		return
	}
	id := auth.FromContext(r.Context())
	city, err := s.store.SetReviewPolicy(r.Context(), mux.Vars(r)["city"],
		wiki.ReviewPolicy{RequiredApprovals: req.RequiredApprovals, ReviewDays: req.ReviewDays}, id.Username)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, city)
}
