package views

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Every request gets one access log line with its route, status and
// client; no credential a request carries ever reaches the log.
func TestAccessLogLineWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	s := newTestServerWith(t, func(o *Options) {
		o.AccessLog = true
		o.Log = slog.New(slog.NewJSONHandler(&logs, nil))
		o.TrustedProxies, _ = ParseTrustedProxies("10.0.0.0/8")
	}, sampleItems...)
	secrets := []string{"SECRET-QUERY-TOKEN", "SECRET-BEARER", "SECRET-COOKIE", "SECRET-PASSWORD"}
	req := httptest.NewRequest("GET", "/search?q=bus&token=SECRET-QUERY-TOKEN", nil)
	req.RemoteAddr = "10.0.0.2:5000"
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	req.Header.Set("Cookie", "session=SECRET-COOKIE")
	s.ServeHTTP(httptest.NewRecorder(), req)
	req = httptest.NewRequest("GET", "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer SECRET-BEARER")
	s.ServeHTTP(httptest.NewRecorder(), req)
	req = httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"anna","password":"SECRET-PASSWORD"}`))
	req.Header.Set("Content-Type", "application/json")
	s.ServeHTTP(httptest.NewRecorder(), req)

	out := logs.String()
	for _, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %s:\n%s", secret, out)
		}
	}
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	want := []struct {
		route  string
		status float64
		client string
	}{{"search", 200, "198.51.100.7"}, {"api.me", 401, "192.0.2.1"}, {"api.login", 401, "192.0.2.1"}}
	if len(lines) != len(want) {
		t.Fatalf("%d access log lines for %d requests:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		l := lines[i]
		if l["route"] != w.route || l["status"] != w.status || l["client"] != w.client || l["request_id"] == "" || l["path"] == nil {
			t.Errorf("line %d = %v, want route %s status %v client %s", i, l, w.route, w.status, w.client)
		}
	}
}
