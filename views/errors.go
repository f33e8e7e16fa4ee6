package views

import (
	"errors"
	"fmt"
	"net/http"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// errorTable maps domain errors to HTTP, in order of precedence.
var errorTable = []struct {
	err    error
	status int
	code   string
}{
	{workflow.ErrUnresolved, http.StatusUnprocessableEntity, "merge.unresolved"},
	{wiki.ErrNotFound, http.StatusNotFound, "not_found"},
	{wiki.ErrForbidden, http.StatusForbidden, "forbidden"},
	{wiki.ErrConflict, http.StatusConflict, "conflict"},
	{wiki.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{wiki.ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
	{errBadRequest, http.StatusBadRequest, "bad_request"},
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{auth.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{auth.ErrBadCredentials, http.StatusUnauthorized, "bad_credentials"},
	{errThrottled, http.StatusTooManyRequests, "throttled"},
	{auth.ErrNotFound, http.StatusNotFound, "not_found"},
	{auth.ErrConflict, http.StatusConflict, "conflict"},
	{auth.ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
}

var (
	errBadRequest      = errors.New("malformed request")
	errUnauthenticated = errors.New("not authenticated")
	errCSRF            = fmt.Errorf("missing or wrong CSRF token (send X-CSRF-Token, or use a bearer token): %w", wiki.ErrForbidden)
	errThrottled       = errors.New("too many failed logins")
)

// statusOf returns the HTTP status and API error code for err; anything
// unknown is an internal error whose details are logged, not shown.
func statusOf(err error) (int, string) {
	var th *auth.ThrottledError
	if errors.As(err, &th) {
		return http.StatusTooManyRequests, "throttled"
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	return http.StatusInternalServerError, "internal"
}
