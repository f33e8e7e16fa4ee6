package views

import (
	"time"

	"errors"
	"fmt"
	"net/http"
	"strings"

	"hansewiki/auth"
	"hansewiki/wiki"
	"hansewiki/workflow"
)

// errorTable maps domain errors to HTTP, in order of precedence. It is the
// one error contract: handlers return errors, and the API (apiError) and the
// pages (htmlError, errorText) both read their status from here.
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
	{wiki.ErrUnsupportedType, http.StatusUnsupportedMediaType, "unsupported_type"},
	{wiki.ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
	{errBadRequest, http.StatusBadRequest, "bad_request"},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed"},
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{auth.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{auth.ErrBadCredentials, http.StatusUnauthorized, "bad_credentials"},
	{errThrottled, http.StatusTooManyRequests, "throttled"},
	{auth.ErrNotFound, http.StatusNotFound, "not_found"},
	{auth.ErrConflict, http.StatusConflict, "conflict"},
	{auth.ErrInvalid, http.StatusUnprocessableEntity, "invalid"},
}

var (
	errBadRequest       = errors.New("malformed request")
	errMethodNotAllowed = errors.New("method not allowed")
	errUnauthenticated  = errors.New("not authenticated")
	errCSRF             = fmt.Errorf("missing or wrong CSRF token (send X-CSRF-Token, or use a bearer token): %w", wiki.ErrForbidden)
	errThrottled        = errors.New("too many failed logins")
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

// errorText is the one translator from an error to what a page says: the
// catalog's text for a validation error's key, else the general text for
// its status. Error strings (English, with internals) never reach a page.
func (c catalog) errorText(err error) string {
	var (
		inv  *wiki.InvalidError
		ainv *auth.InvalidError
		th   *auth.ThrottledError
		key  string
		args []any
	)
	switch {
	case errors.As(err, &th):
		return c.throttledText(th)
	case errors.Is(err, auth.ErrBadCredentials):
		return c.T("login.failed")
	case errors.As(err, &inv):
		key, args = inv.Key, inv.Args
	case errors.As(err, &ainv):
		key = ainv.Key
	}
	if msg, ok := c["err."+key]; key != "" && ok {
		// Args fill the English text; a catalog text uses them only when it
		// has placeholders of its own.
		if len(args) > 0 && strings.Contains(msg, "%") {
			return fmt.Sprintf(msg, args...)
		}
		return msg
	}
	status, _ := statusOf(err)
	return c.T(fmt.Sprintf("error.%d", status))
}

// formText is errorText as the reason shown above a form.
func (c catalog) formText(err error) string { return c.T("form.invalid", c.errorText(err)) }

// throttledText says how long a throttled sign-in has to wait.
func (c catalog) throttledText(th *auth.ThrottledError) string {
	switch {
	case th.RetryAfter < time.Minute:
		return c.T("login.throttled_seconds", th.Seconds())
	case th.Minutes() == 1:
		return c.T("login.throttled_minute")
	}
	return c.T("login.throttled", th.Minutes())
}
