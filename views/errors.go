package views

import (
	"errors"
	"net/http"

	"hansewiki/wiki"
)

// errorTable maps domain errors to HTTP, in order of precedence.
var errorTable = []struct {
	err    error
	status int
	code   string
}{
	{wiki.ErrNotFound, http.StatusNotFound, "not_found"},
	{wiki.ErrForbidden, http.StatusForbidden, "forbidden"},
	{wiki.ErrConflict, http.StatusConflict, "conflict"},
	{wiki.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{wiki.ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
	{errBadRequest, http.StatusBadRequest, "bad_request"},
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
}

var (
	errBadRequest      = errors.New("malformed request")
	errUnauthenticated = errors.New("not authenticated")
)

// statusOf returns the HTTP status and API error code for err; anything
// unknown is an internal error whose details are logged, not shown.
func statusOf(err error) (int, string) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	return http.StatusInternalServerError, "internal"
}
