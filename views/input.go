package views

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"hansewiki/wiki"
)

// maxFormBody bounds a form body: 1 MiB of Markdown percent-encoded (up to
// three bytes each) plus the other fields. The Markdown itself is held to
// wiki.MaxBodyBytes by the draft's validation.
const maxFormBody = 3*wiki.MaxBodyBytes + 256<<10

// checkInput refuses, in one place before any handler, what no route can
// use: NUL bytes or invalid UTF-8 in the path (404: no such page), in the
// query or in a form body (400), and paths that are not in their clean
// form. Pages are redirected to the clean path as before; the API answers
// 404, because it documents no redirects.
func (s *Server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !cleanText(p) || !strings.HasPrefix(p, "/") {
			// The error page links back to its path: never with the bad bytes.
			r.URL.Path = strings.ToValidUTF8(strings.ReplaceAll(p, "\x00", ""), "")
			s.fail(w, r, fmt.Errorf("path: %w", wiki.ErrNotFound), "")
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			err = fmt.Errorf("malformed query: %w", errBadRequest)
		} else {
			err = checkValues("query", q)
		}
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		if c := cleanPath(p); c != p {
			if isAPI(r) || r.Method != http.MethodGet && r.Method != http.MethodHead {
				s.fail(w, r, fmt.Errorf("path %q is not canonical: %w", p, wiki.ErrNotFound), "")
				return
			}
			http.Redirect(w, r, (&url.URL{Path: c, RawQuery: r.URL.RawQuery}).String(), http.StatusMovedPermanently)
			return
		}
		if err := checkForm(w, r); err != nil {
			s.fail(w, r, err, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is path.Clean without the trailing slash ("/c/" is "/c").
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return path.Clean(p)
}

// cleanText: valid UTF-8 without NUL bytes, which PostgreSQL cannot store
// and no one types.
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func checkValues(where string, v url.Values) error {
	for k, vs := range v {
		if !cleanText(k) {
			return &badInput{where: where}
		}
		for _, x := range vs {
			if !cleanText(x) {
				return &badInput{where: where, name: k}
			}
		}
	}
	return nil
}

// badInput is a query, form or JSON value that is not clean text: 400.
type badInput struct{ where, name string }

func (e *badInput) Error() string {
	if e.name == "" {
		return fmt.Sprintf("the %s contains NUL bytes or invalid UTF-8", e.where)
	}
	return fmt.Sprintf("%s parameter %q contains NUL bytes or invalid UTF-8", e.where, e.name)
}
func (e *badInput) Is(target error) bool { return target == errBadRequest }

// checkForm parses an urlencoded form body within its limit and checks its
// values; handlers then read the parsed form.
func checkForm(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("the form exceeds %d bytes: %w", maxFormBody, wiki.ErrTooLarge)
		}
		return fmt.Errorf("malformed form: %w", errBadRequest)
	}
	return checkValues("form", r.PostForm)
}

// checkDecoded walks a decoded JSON value for strings with NUL bytes (JSON
// can carry them as \u0000); invalid UTF-8 is refused before decoding.
func checkDecoded(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return &badInput{where: "body"}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkDecoded(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if err := checkDecoded(v.Field(i)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkDecoded(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := checkDecoded(it.Key()); err != nil {
				return err
			}
			if err := checkDecoded(it.Value()); err != nil {
				return err
			}
		}
	}
	return nil
}

// enumParam reads an optional query parameter that must be one of allowed.
// An unknown value is 422, never a silently unfiltered (or empty) answer:
// this is the one check every enumerated filter uses.
func enumParam[T ~string](r *http.Request, name string, allowed []T) (T, error) {
	vs, err := enumParams(r, name, allowed)
	if err != nil || len(vs) == 0 {
		return "", err
	}
	return vs[0], nil
}

// enumParams is enumParam for a repeatable parameter.
func enumParams[T ~string](r *http.Request, name string, allowed []T) ([]T, error) {
	var out []T
	for _, v := range r.URL.Query()[name] {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if !slices.Contains(allowed, T(v)) {
			names := make([]string, len(allowed))
			for i, a := range allowed {
				names[i] = string(a)
			}
			return nil, &wiki.InvalidError{Field: name, Key: "query.enum",
				Message: fmt.Sprintf("%s must be one of %s", name, strings.Join(names, ", "))}
		}
		out = append(out, T(v))
	}
	return out, nil
}
