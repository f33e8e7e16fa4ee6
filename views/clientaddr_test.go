package views

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientAddress(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client", "203.0.113.9:4711", nil, "203.0.113.9"},
		{"direct client forging the header", "203.0.113.9:4711", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted proxy, client forged an earlier hop", "10.1.2.3:80", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "10.1.2.3:80", []string{"198.51.100.1, 192.0.2.7"}, "198.51.100.1"},
		{"several header lines", "10.1.2.3:80", []string{"1.2.3.4", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"trusted proxy, no header", "10.1.2.3:80", nil, "10.1.2.3"},
		{"only trusted hops", "10.1.2.3:80", []string{"10.4.4.4"}, "10.4.4.4"},
		{"garbage after a trusted hop", "10.1.2.3:80", []string{"198.51.100.1, nonsense, 10.4.4.4"}, "10.4.4.4"},
		{"hop with a port", "10.1.2.3:80", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 behind IPv6 proxy", "[fd00::1]:80", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"untrusted IPv6 peer", "[2001:db8::9]:80", []string{"198.51.100.1"}, "2001:db8::9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddress(r, trusted); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	// Nothing trusted: the header is never read.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := clientAddress(r, nil); got != "127.0.0.1" {
		t.Errorf("without trusted proxies: got %s", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.org", "10.0.0.1/8x", "fe80::1%eth0", "10.0.0"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err %v, want one naming the entry", bad, err)
		}
	}
	ps, err := ParseTrustedProxies(" 10.1.2.3/8 ,, ::1 ")
	if err != nil || len(ps) != 2 || ps[0].String() != "10.0.0.0/8" || ps[1].String() != "::1/128" {
		t.Errorf("got %v, %v", ps, err)
	}
}

// Sign-in throttling and the audit log see the client that a trusted
// proxy names, and never one that an untrusted peer claims to be: an
// attacker slowed down by address gains nothing by rotating the header.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	s := newTestServerWith(t, func(o *Options) { o.TrustedProxies, _ = ParseTrustedProxies("10.0.0.0/8") })
	s.auth.Throttle.PerAddress = 3
	login := func(remote, xff, user string) int {
		req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"`+user+`","password":"falsch"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	// Direct from an untrusted address, each guess with a fresh header.
	for i := range 3 {
		if code := login("203.0.113.9:4000", "198.51.100."+string(rune('1'+i)), "user"+string(rune('a'+i))); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d, want 401", i+1, code)
		}
	}
	if code := login("203.0.113.9:4001", "198.51.100.99", "userz"); code != http.StatusTooManyRequests {
		t.Fatalf("a slowed-down address with a new X-Forwarded-For = %d, want 429", code)
	}
	// Behind the trusted proxy, the forwarded client counts: another
	// client is not slowed down, the attacker still is, forged hops or not.
	if code := login("10.0.0.2:5000", "198.51.100.50", "anna"); code != http.StatusUnauthorized {
		t.Errorf("another client behind the trusted proxy = %d, want 401", code)
	}
	if code := login("10.0.0.2:5000", "192.0.2.200, 203.0.113.9", "userq"); code != http.StatusTooManyRequests {
		t.Errorf("the attacker behind the trusted proxy, with a forged earlier hop = %d, want 429", code)
	}

	// The audit log records the forwarded client.
	token := account(t, s, "autor", "author", "luebeck")
	req := httptest.NewRequest("POST", "/api/v1/changes", strings.NewReader(`{"city":"luebeck","title":"Neue Radwege","body":"Text","summary":"neu","visibility":"public","topics":[],"tags":[]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.RemoteAddr = "10.0.0.2:5000"
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("creating a change: %d %s", rec.Code, rec.Body)
	}
	var addr string
	if err := s.store.Pool().QueryRow(context.Background(),
		`SELECT client_addr FROM audit_events WHERE actor = 'autor' ORDER BY id DESC LIMIT 1`).Scan(&addr); err != nil {
		t.Fatal(err)
	}
	if addr != "198.51.100.77" {
		t.Errorf("audit event's client address = %q, want the forwarded client 198.51.100.77", addr)
	}
}
