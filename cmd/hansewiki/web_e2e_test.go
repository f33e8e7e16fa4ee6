package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"hansewiki/migrations/pgtest"
)

// syncBuffer is a log sink the test may read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Absolute URLs never come from the Host header: without
// HANSEWIKI_BASE_URL they are built from the listen address (and serve
// warns), with it from the base URL; a forged Host reaches no cached feed.
func TestForgedHostNeverReachesFeedsEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, baseURL := range []string{"", "https://wiki.smarte-hanse.example"} {
		logs := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		m := &Main{Config: Config{DatabaseURL: dbURL, Addr: "127.0.0.1:0", BaseURL: baseURL}, Log: slog.New(slog.NewTextHandler(logs, nil)), SkipMigrate: true}
		if err := m.Open(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Listen(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- m.Serve(ctx) }()
		want := baseURL
		if want == "" {
			want = m.URL()
			if !strings.Contains(logs.String(), "HANSEWIKI_BASE_URL is not set") {
				t.Errorf("serve does not warn about the missing base URL:\n%s", logs)
			}
		}
		waitFor(t, func() bool { status, _ := get(t, m.URL()+"/healthz"); return status == 200 })
		for _, path := range []string{"/feed.atom", "/c/rostock/feed.atom", "/c/rostock/starkregen-hinweiskarte"} {
			for range 2 {
				req, _ := http.NewRequest("GET", m.URL()+path, nil)
				req.Host = "evil.example"
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			status, body := get(t, m.URL()+path)
			if status != 200 || strings.Contains(body, "evil.example") || !strings.Contains(body, want+"/") {
				t.Errorf("base %q: GET %s after forged requests = %d; forged host in it: %v; links from %s: %v",
					baseURL, path, status, strings.Contains(body, "evil.example"), want, strings.Contains(body, want+"/"))
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		m.Close()
	}
}
