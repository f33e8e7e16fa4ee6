package views

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas   map[string]*schema `json:"schemas"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema *schema `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"components"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Enum       []any              `json:"enum"`
	Nullable   bool               `json:"nullable"`
}

type operation struct {
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

var varPattern = regexp.MustCompile(`\{([a-z_]+):[^}]*\}`)

// apiRoutes lists "METHOD /path" for every /api/v1 route of the table,
// with path variables written the OpenAPI way.
func apiRoutes(t *testing.T, s *Server) []string {
	var out []string
	err := s.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil || !strings.HasPrefix(tpl, "/api/v1/") {
			return nil
		}
		methods, _ := r.GetMethods()
		for _, m := range methods {
			out = append(out, m+" "+varPattern.ReplaceAllString(strings.TrimPrefix(tpl, "/api/v1"), "{$1}"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// The OpenAPI document lists exactly the routes the router serves.
func TestOpenAPIMatchesRouteTable(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	doc := loadOpenAPI(t)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(documented)
	if routes := apiRoutes(t, s); !slices.Equal(routes, documented) {
		t.Fatalf("route table and OpenAPI document differ:\nroutes:     %v\ndocumented: %v", routes, documented)
	}
}

// Real responses conform to the schemas the document promises.
func TestAPIResponsesMatchOpenAPISchemas(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	doc := loadOpenAPI(t)
	list := do(t, s, "GET", "/api/v1/articles/luebeck/quartiersbus-in-luebeck/revisions")
	var revs []struct{ ID int64 }
	json.Unmarshal(list.Body.Bytes(), &revs)
	if len(revs) != 1 {
		t.Fatalf("revisions: %s", list.Body)
	}
	rev := strconv.FormatInt(revs[0].ID, 10)
	cases := []struct {
		target, path string
		status       int
	}{
		{"/api/v1/cities", "/cities", 200},
		{"/api/v1/topics", "/topics", 200},
		{"/api/v1/articles", "/articles", 200},
		{"/api/v1/articles?city=luebeck&topic=mobilitaet", "/articles", 200},
		{"/api/v1/articles?limit=x", "/articles", 400},
		{"/api/v1/articles/luebeck/quartiersbus-in-luebeck", "/articles/{city}/{slug}", 200},
		{"/api/v1/articles/luebeck/intern", "/articles/{city}/{slug}", 404},
		{"/api/v1/articles/luebeck/quartiersbus-in-luebeck/revisions", "/articles/{city}/{slug}/revisions", 200},
		{"/api/v1/articles/luebeck/quartiersbus-in-luebeck/revisions/" + rev, "/articles/{city}/{slug}/revisions/{id}", 200},
		{"/api/v1/articles/luebeck/quartiersbus-in-luebeck/revisions/999999", "/articles/{city}/{slug}/revisions/{id}", 404},
		{"/api/v1/search?q=Bus", "/search", 200},
		{"/api/v1/search?q=Bus&city=luebeck&topic=mobilitaet&limit=5", "/search", 200},
		{"/api/v1/search?q=x&limit=1000", "/search", 400},
		{"/api/v1/search/suggest?q=Quart", "/search/suggest", 200},
	}
	for _, c := range cases {
		rec := do(t, s, "GET", c.target)
		if rec.Code != c.status {
			t.Errorf("GET %s = %d, want %d: %s", c.target, rec.Code, c.status, rec.Body)
			continue
		}
		var op operation
		if err := json.Unmarshal(doc.Paths[c.path]["get"], &op); err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		resp, ok := op.Responses[strconv.Itoa(c.status)]
		if !ok {
			t.Errorf("GET %s: status %d is not documented", c.path, c.status)
			continue
		}
		var sc *schema
		if resp.Ref != "" {
			sc = doc.Components.Responses[strings.TrimPrefix(resp.Ref, "#/components/responses/")].Content["application/json"].Schema
		} else {
			sc = resp.Content["application/json"].Schema
		}
		var body any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Errorf("GET %s: not JSON: %v", c.target, err)
			continue
		}
		if err := doc.validate(sc, body, "$"); err != nil {
			t.Errorf("GET %s: %v\n%s", c.target, err, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: Content-Type %q", c.target, ct)
		}
	}
	if rec := do(t, s, "GET", "/api/v1/openapi.json"); rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("openapi.json: %d", rec.Code)
	}
}

// validate checks the parts of JSON Schema the document uses.
func (d *openAPIDoc) validate(s *schema, v any, at string) error {
	if s == nil {
		return fmt.Errorf("%s: no schema", at)
	}
	if s.Ref != "" {
		return d.validate(d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], v, at)
	}
	if v == nil {
		if s.Nullable {
			return nil
		}
		return fmt.Errorf("%s: null where %s is required", at, s.Type)
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		return fmt.Errorf("%s: %v not in %v", at, v, s.Enum)
	}
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want object, got %T", at, v)
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: missing required %q", at, r)
			}
		}
		for k, val := range obj {
			if p, ok := s.Properties[k]; ok {
				if err := d.validate(p, val, at+"."+k); err != nil {
					return err
				}
			} else if len(s.Properties) > 0 {
				return fmt.Errorf("%s: undocumented property %q", at, k)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want array, got %T", at, v)
		}
		for i, e := range arr {
			if err := d.validate(s.Items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: want string, got %T", at, v)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want integer, got %v", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want boolean, got %T", at, v)
		}
	}
	return nil
}

// Every status the API answers — to hostile and sloppy requests too — is
// described for its operation in the OpenAPI document.
func TestEveryAPIStatusIsDocumented(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	doc := loadOpenAPI(t)
	member := account(t, s, "mitglied")
	admin := account(t, s, "stadtadmin", "admin", "luebeck")
	huge := `{"body":"` + strings.Repeat("x", maxChangeBody) + `"}`
	for _, rt := range allRoutes(t, s) {
		if !strings.HasPrefix(rt.tpl, "/api/v1/") || strings.Contains(rt.name, "logout") {
			continue
		}
		docPath := varPattern.ReplaceAllString(strings.TrimPrefix(rt.tpl, "/api/v1"), "{$1}")
		var op operation
		if err := json.Unmarshal(doc.Paths[docPath][strings.ToLower(rt.method)], &op); err != nil {
			t.Fatalf("%s %s: %v", rt.method, docPath, err)
		}
		type variant struct{ target, auth, body string }
		target := concrete(rt.tpl, "", "")
		variants := []variant{{target, "", ""}, {target, member, "{}"}, {target, admin, "{}"}, {target, "nope", ""},
			{target + "?x=%00", "", ""}, {target + "?a=%zz", admin, ""}, {target + "?limit=x&offset=-1", admin, ""},
			{target + "?state=x", admin, ""}, {target + "?status=x", admin, ""}, {target + "?mine=x", admin, ""}, {target + "?sort=x&q=a", admin, ""}}
		for _, v := range routeVar.FindAllStringSubmatch(rt.tpl, -1) {
			variants = append(variants, variant{concrete(rt.tpl, v[1], "%00"), admin, ""}, variant{concrete(rt.tpl, v[1], "999999"), admin, ""})
		}
		if rt.method != http.MethodGet {
			for _, body := range []string{`{"x":1}`, `nicht json`, `{"title":"\u0000"}`, `{"city":"luebeck","title":"","body":"x"}`,
				`{"city":"nirgendwo","title":"T","body":"x"}`, `{"required_approvals":99}`, `{"username":"a","password":"b"}`, huge} {
				variants = append(variants, variant{target, admin, body}, variant{target, member, body})
			}
		}
		for _, v := range variants {
			req := httptest.NewRequest(rt.method, "/", strings.NewReader(v.body))
			u, _ := url.Parse(v.target)
			req.URL, req.RequestURI = u, v.target
			if v.auth != "" {
				req.Header.Set("Authorization", "Bearer "+v.auth)
			}
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if _, ok := op.Responses[strconv.Itoa(rec.Code)]; !ok {
				t.Errorf("%s %s answers %d, not documented (request %s): %.200s", rt.method, docPath, rec.Code, v.target, rec.Body)
			}
		}
	}
}
