// Command loadtest measures Hansewiki under load with wrk, the way
// docs/PERFORMANCE.md reports it: every figure beside references measured
// in the same run on the same machine, because only ratios compare across
// runs on shared machines.
//
// It builds the hansewiki binary, makes a fresh database with the demo
// content and a 20 KB article, starts real `hansewiki serve` processes, and
// drives them with wrk:
//
//   - pages: the article page anonymous, signed in with a session cookie and
//     with a bearer token, the search page signed in (one popular query, and
//     a new query every request), against a plain handler serving a fixed
//     20 KB body and a plain handler doing one pgx QueryRow of a 20 KB row;
//   - instances: a mixed load (anonymous and signed-in views, searches)
//     with one publication a second, on one instance and on several sharing
//     the database, and how long a publication takes to show on every
//     instance.
//
// Run it with `make loadtest` (tools/loadtest.sh installs wrk when missing).
//
//	go run ./tools/loadtest [-mode pages|instances|all] [-seconds 10] [-rounds 3] [-conns 32] [-instances 3]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	mode := flag.String("mode", "all", "pages, instances or all")
	seconds := flag.Int("seconds", 10, "length of each measured run")
	conns := flag.Int("conns", 32, "connections (wrk -c)")
	instances := flag.Int("instances", 3, "instances for the mixed load")
	rounds := flag.Int("rounds", 3, "rounds of the page targets; each figure is the median")
	flag.Parse()
	if err := run(*mode, time.Duration(*seconds)*time.Second, *conns, *instances, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// env is everything a measurement needs: the database, the binary and the
// accounts.
type env struct {
	ctx      context.Context
	adminURL string // the server's maintenance database
	dbURL    string
	bin      string
	dir      string
	// The reader signs in with a cookie and with a token; the author and
	// the reviewer publish during the mixed load.
	cookie, token          string
	authorTok, reviewerTok string
	procs                  []*exec.Cmd
}

func run(mode string, d time.Duration, conns, instances, rounds int) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed: run `make loadtest`, which installs it (Debian package wrk)")
	}
	e := &env{ctx: context.Background()}
	defer e.close()
	if err := e.setUp(); err != nil {
		return err
	}
	if mode == "pages" || mode == "all" {
		if err := e.pages(d, conns, rounds); err != nil {
			return err
		}
	}
	if mode == "instances" || mode == "all" {
		if err := e.instances(d, conns, instances); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) setUp() error {
	var err error
	if e.dir, err = os.MkdirTemp("", "hansewiki-load-"); err != nil {
		return err
	}
	e.adminURL = os.Getenv("TEST_DATABASE_URL")
	if e.adminURL == "" {
		e.adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "hansewiki_load_" + hex.EncodeToString(suffix)
	if err := e.admin(`CREATE DATABASE ` + name); err != nil {
		return fmt.Errorf("creating the database (set TEST_DATABASE_URL to a server you may create databases on): %w", err)
	}
	u, _ := url.Parse(e.adminURL)
	u.Path = "/" + name
	e.dbURL = u.String()

	step("building hansewiki")
	e.bin = filepath.Join(e.dir, "hansewiki")
	if out, err := exec.Command("go", "build", "-o", e.bin, "./cmd/hansewiki").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	step("loading the demo content and a 20 KB article")
	if _, err := e.cli("", "migrate"); err != nil {
		return err
	}
	if _, err := e.cli("", "seed", "--demo"); err != nil {
		return err
	}
	fixture, err := os.ReadFile("wiki/markdown/testdata/artikel-20kb.md")
	if err != nil {
		return fmt.Errorf("run loadtest from the repository root: %w", err)
	}
	corpus := filepath.Join(e.dir, "corpus")
	os.MkdirAll(filepath.Join(corpus, "rostock"), 0o755)
	files := map[string]string{
		"klimaanpassung.md": "---\ntitle: Klimaanpassung in der Hansestadt\ntopics: [klimaresilienz]\ntags: [starkregen]\nvisibility: public\nstatus: umsetzung\n---\n" + string(fixture),
		"messartikel.md":    "---\ntitle: Messartikel\ntopics: [klimaresilienz]\nvisibility: public\n---\nStand 0\n",
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(corpus, "rostock", f), []byte(body), 0o644); err != nil {
			return err
		}
	}
	if _, err := e.cli("", "import", corpus); err != nil {
		return err
	}
	for user, role := range map[string]string{"leserin": "author", "autorin": "author", "pruefer": "reviewer"} {
		if _, err := e.cli(password+"\n", "user", "add", user); err != nil {
			return err
		}
		if _, err := e.cli("", "role", "grant", user, role, "rostock"); err != nil {
			return err
		}
	}
	for user, dst := range map[string]*string{"leserin": &e.token, "autorin": &e.authorTok, "pruefer": &e.reviewerTok} {
		out, err := e.cli("", "user", "token", user)
		if err != nil {
			return err
		}
		*dst = strings.TrimSpace(out)
	}
	// The one-query reference reads a 20 KB row.
	return e.admin(`CREATE TABLE load_reference (id int PRIMARY KEY, body text NOT NULL);
		INSERT INTO load_reference VALUES (1, repeat('a', 20480))`, name)
}

const password = "ein-sicheres-passwort"

func step(msg string) { fmt.Fprintln(os.Stderr, "·", msg) }

// admin runs sql on the maintenance database, or on db when given.
func (e *env) admin(sql string, db ...string) error {
	u := e.adminURL
	if len(db) > 0 {
		p, _ := url.Parse(e.adminURL)
		p.Path = "/" + db[0]
		u = p.String()
	}
	conn, err := pgx.Connect(e.ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(e.ctx)
	_, err = conn.Exec(e.ctx, sql)
	return err
}

func (e *env) cli(stdin string, args ...string) (string, error) {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.dbURL)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hansewiki %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// serve starts an instance and returns its base URL once it is ready.
func (e *env) serve() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	base := "http://" + addr
	cmd := exec.Command(e.bin, "serve", "--no-migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.dbURL, "HANSEWIKI_ADDR="+addr, "HANSEWIKI_BASE_URL="+base,
		"MEILI_URL=", "HANSEWIKI_LOG_LEVEL=warn")
	logFile, err := os.Create(filepath.Join(e.dir, "serve-"+strings.ReplaceAll(addr, ":", "-")+".log"))
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return "", err
	}
	e.procs = append(e.procs, cmd)
	for range 300 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile.Name())
	return "", fmt.Errorf("instance at %s did not become ready:\n%s", base, log)
}

// stopAll stops every instance and waits for it.
func (e *env) stopAll() {
	for _, p := range e.procs {
		p.Process.Signal(os.Interrupt)
		p.Wait()
	}
	e.procs = nil
}

func (e *env) close() {
	e.stopAll()
	if e.dbURL != "" {
		name := strings.TrimPrefix(must(url.Parse(e.dbURL)).Path, "/")
		if err := e.admin(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			fmt.Fprintln(os.Stderr, "dropping the load database:", err)
		}
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// signIn signs in through the login form and returns the session cookie.
func signIn(base, user string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return "", errors.New("login page without CSRF token")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf_token": {string(m[1])}, "username": {user}, "password": {password}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, ck := range jar.Cookies(must(url.Parse(base))) {
		if ck.Name == "hansewiki_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", errors.New("signing in set no session cookie")
}

// result is one wrk run.
type result struct {
	rps float64
	p99 time.Duration
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Line = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	badLine = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// wrk runs wrk against target for d with conns connections; script, when
// set, is a Lua script that picks the requests.
func wrk(target string, d time.Duration, conns int, script string, header ...string) (result, error) {
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}
	for _, h := range header {
		args = append(args, "-H", h)
	}
	if script != "" {
		args = append(args, "-s", script)
	}
	out, err := exec.Command("wrk", append(args, target)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %v\n%s", target, err, out)
	}
	if m := badLine.FindSubmatch(out); m != nil {
		return result{}, fmt.Errorf("wrk %s: %s requests were not answered with 2xx or 3xx:\n%s", target, m[1], out)
	}
	rm, pm := rpsLine.FindSubmatch(out), p99Line.FindSubmatch(out)
	if rm == nil || pm == nil {
		return result{}, fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	var r result
	r.rps, _ = strconv.ParseFloat(string(rm[1]), 64)
	v, _ := strconv.ParseFloat(string(pm[1]), 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(pm[2])]
	r.p99 = time.Duration(v * float64(unit))
	return r, nil
}

// references starts the two reference handlers.
func (e *env) references() (static, oneQuery string, stop func(), err error) {
	pool, err := pgxpool.New(e.ctx, e.dbURL)
	if err != nil {
		return "", "", nil, err
	}
	body := bytes.Repeat([]byte("a"), 20*1024)
	mux := http.NewServeMux()
	mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		var s string
		if err := pool.QueryRow(r.Context(), `SELECT body FROM load_reference WHERE id = 1`).Scan(&s); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, s)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return "", "", nil, err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	base := "http://" + l.Addr().String()
	return base + "/static", base + "/query", func() { srv.Close(); pool.Close() }, nil
}

// pages measures each target against the references, in one run.
func (e *env) pages(d time.Duration, conns, rounds int) error {
	base, err := e.serve()
	if err != nil {
		return err
	}
	defer e.stopAll()
	if e.cookie, err = signIn(base, "leserin"); err != nil {
		return err
	}
	static, oneQuery, stop, err := e.references()
	if err != nil {
		return err
	}
	defer stop()
	// A new search every request: the words come from the wiki's own text
	// with a changing number, so no two requests share a cached page.
	newQueries := filepath.Join(e.dir, "queries.lua")
	os.WriteFile(newQueries, []byte(`
local words = {"starkregen", "klima", "mobilitaet", "bus", "akte", "quartier", "wasser", "hitze"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/search?q=" .. words[(n % #words) + 1] .. "+" .. n)
end
`), 0o644)
	article := base + "/c/rostock/klimaanpassung"
	targets := []struct {
		name, url, script string
		header            []string
	}{
		{"plain handler, fixed 20 KB body", static, "", nil},
		{"plain handler, one pgx QueryRow of a 20 KB row", oneQuery, "", nil},
		{"article page, anonymous", article, "", nil},
		{"article page, signed in (session cookie)", article, "", []string{"Cookie: " + e.cookie}},
		{"article page, signed in (bearer token)", article, "", []string{"Authorization: Bearer " + e.token}},
		{"search page, signed in, one popular query", base + "/search?q=starkregen", "", []string{"Cookie: " + e.cookie}},
		{"search page, signed in, a new query every request", base, newQueries, []string{"Cookie: " + e.cookie}},
	}
	step(fmt.Sprintf("pages: %d rounds of %d targets, %s each after a 2 s warm-up, %d connections", rounds, len(targets), d, conns))
	// Rounds interleave the targets, so a noisy moment on a shared machine
	// hits one run of each rather than all runs of one; each figure is the
	// median of its rounds.
	runs := make([][]result, len(targets))
	for _, t := range targets {
		if _, err := wrk(t.url, 2*time.Second, conns, t.script, t.header...); err != nil {
			return err
		}
	}
	for range rounds {
		for i, t := range targets {
			r, err := wrk(t.url, d, conns, t.script, t.header...)
			if err != nil {
				return err
			}
			runs[i] = append(runs[i], r)
		}
	}
	results := make([]result, len(targets))
	for i, rs := range runs {
		rps := make([]float64, len(rs))
		p99 := make([]time.Duration, len(rs))
		for j, r := range rs {
			rps[j], p99[j] = r.rps, r.p99
		}
		slices.Sort(rps)
		slices.Sort(p99)
		results[i] = result{rps: rps[len(rps)/2], p99: p99[len(p99)/2]}
	}
	ref, q := results[0], results[1]
	fmt.Printf("\n| target | req/s | p99 | × fixed body | × one query | p99 ÷ one query's |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for i, t := range targets {
		r := results[i]
		fmt.Printf("| %s | %.0f | %s | %.2f | %.2f | %.2f |\n", t.name, r.rps, ms(r.p99), r.rps/ref.rps, r.rps/q.rps,
			float64(r.p99)/float64(q.p99))
	}
	check := func(what string, ok bool) {
		mark := "met"
		if !ok {
			mark = "NOT met"
		}
		fmt.Printf("- %s: %s\n", what, mark)
	}
	fmt.Println()
	check("anonymous article page ≥ 0.75 × fixed body", results[2].rps >= 0.75*ref.rps)
	check("signed-in article page (cookie) ≥ 1.0 × one query, p99 ≤ 2 × its p99", results[3].rps >= q.rps && results[3].p99 <= 2*q.p99)
	check("signed-in article page (token) ≥ 1.0 × one query, p99 ≤ 2 × its p99", results[4].rps >= q.rps && results[4].p99 <= 2*q.p99)
	check("signed-in search page (popular query) ≥ 0.5 × one query", results[5].rps >= 0.5*q.rps)
	check("signed-in search page (a new query every request) ≥ 0.5 × one query", results[6].rps >= 0.5*q.rps)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// instances compares one instance with several under the same mixed load
// and one publication a second.
func (e *env) instances(d time.Duration, conns, n int) error {
	fmt.Printf("\nMixed load: anonymous and signed-in article views, signed-in searches, one publication a second; %d connections from %d wrk processes in all, %s.\n\n", conns, n, d)
	fmt.Printf("| instances | req/s (all instances) | p99 (worst generator) | publications | publication visible on every instance: median / max |\n| ---: | ---: | ---: | ---: | ---: |\n")
	var single float64
	for _, k := range []int{1, n} {
		r, lat, err := e.mixed(d, conns, k, n)
		if err != nil {
			return err
		}
		if k == 1 {
			single = r.rps
		}
		fmt.Printf("| %d | %.0f | %s | %d | %s / %s |\n", k, r.rps, ms(r.p99), len(lat), ms(median(lat)), ms(slices.Max(lat)))
		if k > 1 {
			fmt.Printf("\n%d instances serve %.2f × what one does.\n", k, r.rps/single)
		}
	}
	return nil
}

func median(l []time.Duration) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[len(s)/2]
}

// mixed runs the mixed load on k instances and publishes once a second
// through the first; it reports the summed throughput, the worst p99 and
// how long each publication took to show on every instance, measured
// from the moment the approval was sent.
func (e *env) mixed(d time.Duration, conns, k, slots int) (result, []time.Duration, error) {
	defer e.stopAll()
	var bases []string
	for range k {
		b, err := e.serve()
		if err != nil {
			return result{}, nil, err
		}
		bases = append(bases, b)
	}
	cookie, err := signIn(bases[0], "leserin")
	if err != nil {
		return result{}, nil, err
	}
	script := filepath.Join(e.dir, "mixed.lua")
	os.WriteFile(script, []byte(fmt.Sprintf(`
local cookie = %q
local reqs
-- Built in init: wrk adds the Host header only once it knows the target.
init = function(args)
  reqs = {
    wrk.format("GET", "/c/rostock/klimaanpassung"),
    wrk.format("GET", "/c/rostock/klimaanpassung", {["Cookie"] = cookie}),
    wrk.format("GET", "/search?q=starkregen", {["Cookie"] = cookie}),
    wrk.format("GET", "/c/rostock", {["Cookie"] = cookie}),
    wrk.format("GET", "/c/rostock/messartikel"),
    wrk.format("GET", "/search?q=klima", {["Cookie"] = cookie}),
  }
end
local n = 0
request = function()
  n = n + 1
  return reqs[(n %% #reqs) + 1]
end
`, cookie)), 0o644)

	ctx, cancel := context.WithCancel(e.ctx)
	var lat []time.Duration
	var pubErr error
	var pubWG sync.WaitGroup
	pubWG.Add(1)
	go func() {
		defer pubWG.Done()
		lat, pubErr = e.publishEverySecond(ctx, bases)
	}()
	// The same load generators in every run (one wrk per slot, slots
	// spread over the instances), so one instance and several are driven
	// alike and pay the same for the generators on the same cores.
	per := max(1, conns/slots)
	results := make([]result, slots)
	errs := make([]error, slots)
	var wg sync.WaitGroup
	for i := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = wrk(bases[i%k], d, per, script)
		}()
	}
	wg.Wait()
	cancel()
	pubWG.Wait()
	if err := errors.Join(append(errs, pubErr)...); err != nil {
		return result{}, nil, err
	}
	if len(lat) == 0 {
		return result{}, nil, errors.New("no publication went through during the run")
	}
	var sum result
	for _, r := range results {
		sum.rps += r.rps
		sum.p99 = max(sum.p99, r.p99)
	}
	return sum, lat, nil
}

// publishEverySecond proposes and approves a new text of the measuring
// article through the first instance's API once a second, and measures for
// each when every instance shows it.
func (e *env) publishEverySecond(ctx context.Context, bases []string) ([]time.Duration, error) {
	var lat []time.Duration
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return lat, nil
		case <-tick.C:
		}
		var art struct{ Revision int64 }
		if err := api(bases[0], e.authorTok, "GET", "/api/v1/articles/rostock/messartikel", nil, &art); err != nil {
			return lat, err
		}
		text := fmt.Sprintf("Stand %d-%d", i, time.Now().UnixNano())
		var ch struct{ ID, Revision int64 }
		if err := api(bases[0], e.authorTok, "POST", "/api/v1/changes", map[string]any{"city": "rostock", "slug": "messartikel",
			"base_revision": art.Revision, "title": "Messartikel", "body": text, "summary": "Messung", "topics": []string{"klimaresilienz"},
			"visibility": "public", "submit": true}, &ch); err != nil {
			return lat, err
		}
		start := time.Now()
		if err := api(bases[0], e.reviewerTok, "POST", "/api/v1/changes/"+strconv.FormatInt(ch.ID, 10)+"/approve",
			map[string]any{"revision": ch.Revision}, nil); err != nil {
			return lat, err
		}
		for _, b := range bases {
			for !shows(b+"/c/rostock/messartikel", text) {
				if time.Since(start) > 10*time.Second {
					return lat, fmt.Errorf("publication %d did not show on %s within 10 s", i, b)
				}
				time.Sleep(time.Millisecond)
			}
		}
		lat = append(lat, time.Since(start))
	}
}

func shows(page, text string) bool {
	resp, err := http.Get(page)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), text) {
			return true
		}
	}
	return false
}

func api(base, token, method, path string, body, into any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if into != nil {
		return json.Unmarshal(b, into)
	}
	return nil
}
