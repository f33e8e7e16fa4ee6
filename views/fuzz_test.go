package views

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Request decoding never panics, never answers 500 and lets no NUL byte or
// invalid UTF-8 through to the domain.
func FuzzDecodeJSONBody(f *testing.F) {
	for _, seed := range []string{`{}`, `{"title":"a","body":"b","topics":["x"],"start_year":2024}`, `{"title":"\u0000"}`,
		"{\"title\":\"\xff\"}", `{"tags":[null,"\ud800"]}`, `{"x":1}`, `[]`, `{"comment":"a"} {}`, `{"required_approvals":1e400}`, ``} {
		f.Add([]byte(seed))
	}
	targets := []func() any{
		func() any { return new(changeBody) }, func() any { return new(commentBody) },
		func() any { return new(loginRequest) }, func() any { return new(cityUpdate) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newTarget := range targets {
			v := newTarget()
			req := httptest.NewRequest("POST", "/api/v1/changes", bytes.NewReader(body))
			err := decodeJSON(httptest.NewRecorder(), req, v, 64<<10)
			if err != nil {
				if status, _ := statusOf(err); status >= 500 {
					t.Fatalf("decoding %q: %v answers %d", body, err, status)
				}
				continue
			}
			walkStrings(reflect.ValueOf(v), func(s string) {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
					t.Fatalf("decoding %q let %q through", body, s)
				}
			})
		}
	})
}

func walkStrings(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.String:
		fn(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkStrings(v.Index(i), fn)
		}
	}
}

// Any query on the routes that read queries answers below 500, against the
// real handlers and database.
func FuzzQuery(f *testing.F) {
	s := newTestServer(f, sampleItems...)
	// A city admin reads everything these routes offer, the audit log too.
	member := account(f, s, "stadtadmin", "admin", "luebeck")
	targets := []string{"/api/v1/search", "/api/v1/articles", "/api/v1/changes", "/api/v1/audit", "/search", "/topics/mobilitaet",
		"/c/luebeck", "/changes", "/review", "/c/luebeck/quartiersbus-in-luebeck/diff", "/api/v1/search/suggest", "/", "/feed.atom"}
	for _, seed := range []string{"q=bus", "status=rostock", "city=%00", "tag=%ff", "limit=-1", "offset=99999999999999999999",
		"page=0", "sort=title", "state=draft&mine=1", "q=" + strings.Repeat("%C3%BC", 300), "a=%zz", "a;b", "object=user:x&actor=%27",
		"from=1&to=999", "lang=en&lang=de", "before=-5", "action=%5C", "action=a_%25"} {
		for i := range targets {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		target := targets[int(route)%len(targets)]
		req := httptest.NewRequest("GET", target, nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+member)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code == http.StatusOK && !utf8.Valid(rec.Body.Bytes()) {
			t.Fatalf("GET %s?%s = %d: %.300s", target, query, rec.Code, rec.Body)
		}
	})
}
