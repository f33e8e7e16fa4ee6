package views

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Redirect targets an attacker might put into next=, as the handler sees
// them (the query already decoded once).
var offSite = []string{
	"//evil.example", "///evil.example", "////evil.example",
	"/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
	"/%5Cevil.example", "/%5cevil.example", "%2F%2Fevil.example", "/%2Fevil.example", "/%2f/evil.example",
	"/%252F/evil.example", "/%25252F%25252Fevil.example", "/%255Cevil.example",
	"/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/%0a/evil.example", "/\r/evil.example",
	"/%0d/evil.example", "/%0D%0A/evil.example", "/\x00/evil.example", "/%00/evil.example", "/\x7f/x",
	"/\u0085/evil.example", "/\u2028/evil.example", "/\u00a0/evil.example", "/\u3000/evil.example",
	"/\u200b/evil.example", "/\u202e/evil.example", "/\ufeff/evil.example", "/%E2%80%8B/evil.example",
	"/\xff/evil.example", "/%ff/evil.example", "/%zz%5Cevil.example", "/%5%5Cevil.example",
	"https://evil.example", "http:/evil.example", "javascript:alert(1)", "Javascript:alert(1)",
	"data:text/html,x", "evil.example", "@evil.example", " /x", "\t/x", "", ".", "./x",
	"/x\\y", "/x//y", "/c/rostock//evil", "/" + strings.Repeat("a", 3000),
}

var onSite = []string{
	"/", "/account", "/c/rostock/klimaanpassung", "/c/rostock/klimaanpassung/edit?change=5",
	"/search?q=http://evil.example", "/search?q=a%2Fb&city=rostock", "/c/l%C3%BCbeck/stra%C3%9Fe",
	"/c/lübeck/straße", "/changes/12#review", "/search?q=100%25", "/a b",
}

func TestSafeNextKeepsRedirectsOnThisSite(t *testing.T) {
	for _, next := range offSite {
		if got := SafeNext(next); got != "/" {
			t.Errorf("SafeNext(%q) = %q, want /", next, got)
		}
	}
	for _, next := range onSite {
		if got := SafeNext(next); got != next {
			t.Errorf("SafeNext(%q) = %q, want it kept", next, got)
		}
	}
}

// Whatever SafeNext lets through, the browser resolves against this site:
// after http.Redirect, after the cleanup browsers apply (tabs and newlines
// dropped, backslashes read as slashes) and after any number of decodings,
// the Location is a path without a host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range append(offSite, onSite...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := SafeNext(next)
		if got != "/" && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither the input nor /", next, got)
		}
		w := httptest.NewRecorder()
		http.Redirect(w, httptest.NewRequest("GET", "/login", nil), got, http.StatusSeeOther)
		loc := w.Header().Get("Location")
		for range 4 {
			browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
			u, err := url.Parse("https://hansewiki.example" + browser)
			if err != nil {
				break // a browser would not follow it either
			}
			if u.Host != "hansewiki.example" || !strings.HasPrefix(browser, "/") || strings.HasPrefix(browser, "//") {
				t.Fatalf("SafeNext(%q) = %q redirects to %q (host %q)", next, got, loc, u.Host)
			}
			loc = unescapeLenient(loc)
		}
	})
}
