// Package pglocal starts a private PostgreSQL cluster from the locally
// installed server binaries: Hansewiki's embedded default when no
// DATABASE_URL is configured, and the test suite's last resort.
package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means no PostgreSQL server installation was found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (initdb, pg_ctl, postgres): " +
	"install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL")

// Options configure a private cluster.
type Options struct {
	// Dir holds the cluster's files; created when missing.
	Dir string
	// Database is created on first start (default "hansewiki").
	Database string
	// Port is the number in the socket's name (default 5432); the cluster
	// listens on a unix socket only, so it cannot clash with a system server.
	Port int
	// NoSync trades crash safety for speed (tests only).
	NoSync bool
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	// URL connects to Options.Database as the cluster's superuser.
	URL string

	dir     string
	bindir  string
	cred    *syscall.Credential
	started bool // false when an already running cluster was reused
}

const superuser = "hansewiki"

// BinDir finds the directory with initdb, pg_ctl and postgres.
func BinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	// Debian keeps server binaries outside PATH; prefer the newest major version.
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return majorOf(versions[i]) > majorOf(versions[j]) })
	candidates = append(candidates, versions...)
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "pg_ctl")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func majorOf(bindir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return n
}

func isExec(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start starts the cluster in opts.Dir, initialising it first if needed, or
// reuses it when another process already runs it.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Database == "" {
		opts.Database = "hansewiki"
	}
	if opts.Port == 0 {
		opts.Port = 5432
	}
	bindir, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bindir: bindir}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		if c.cred, err = unprivileged(); err != nil {
			return nil, err
		}
	}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	sockdir, port, running := c.runningSocket()
	if !running {
		sockdir = c.socketDir()
		port = opts.Port
		if err := c.start(ctx, sockdir, port, opts.NoSync); err != nil {
			// Another process may have started it at the same moment.
			if s, p, ok := c.runningSocket(); ok {
				sockdir, port = s, p
			} else {
				return nil, err
			}
		} else {
			c.started = true
		}
	}
	c.URL = fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable",
		superuser, url.PathEscape(opts.Database), url.QueryEscape(sockdir), port)
	if err := c.ensureDatabase(ctx, sockdir, port, opts.Database); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop stops the cluster if this process started it.
func (c *Cluster) Stop() error {
	if c == nil || !c.started {
		return nil
	}
	c.started = false
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return c.run(ctx, "pg_ctl", "-D", c.pgdata(), "-m", "fast", "-w", "stop")
}

func (c *Cluster) pgdata() string { return c.dir }

func (c *Cluster) prepareDirs() error {
	// Parents stay traversable: as root, the cluster runs as another user.
	if err := os.MkdirAll(filepath.Dir(c.dir), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(c.dir), err)
	}
	if err := os.Mkdir(c.dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating %s: %w", c.dir, err)
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("handing %s to the PostgreSQL user: %w", c.dir, err)
		}
	}
	return nil
}

// socketDir keeps the socket inside the cluster directory when the path fits
// the kernel's limit for socket names, else in a private temporary directory.
func (c *Cluster) socketDir() string {
	if len(c.dir)+len("/.s.PGSQL.65535") < 100 {
		return c.dir
	}
	d, err := os.MkdirTemp("", "hansewiki-pg-")
	if err == nil && c.cred != nil {
		_ = os.Chown(d, int(c.cred.Uid), int(c.cred.Gid))
	}
	if err != nil {
		return os.TempDir()
	}
	return d
}

func (c *Cluster) initdb(ctx context.Context) error {
	err := c.run(ctx, "initdb", "-D", c.pgdata(), "-U", superuser, "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")
	if err != nil {
		if c.cred != nil {
			return fmt.Errorf("initialising a private PostgreSQL cluster in %s (it runs as uid %d, which must be able to reach that directory): %w", c.dir, c.cred.Uid, err)
		}
		return fmt.Errorf("initialising a private PostgreSQL cluster in %s: %w", c.dir, err)
	}
	return nil
}

func (c *Cluster) start(ctx context.Context, sockdir string, port int, nosync bool) error {
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -p %d", sockdir, port)
	if nosync {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	return c.run(ctx, "pg_ctl", "-D", c.pgdata(), "-l", filepath.Join(c.dir, "server.log"),
		"-o", opts, "-w", "-t", "60", "start")
}

// runningSocket reads postmaster.pid to find a server that is already up.
func (c *Cluster) runningSocket() (sockdir string, port int, ok bool) {
	data, err := os.ReadFile(filepath.Join(c.dir, "postmaster.pid"))
	if err != nil {
		return "", 0, false
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 8 || !strings.Contains(lines[7], "ready") {
		return "", 0, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return "", 0, false
	}
	port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	return strings.TrimSpace(lines[4]), port, true
}

func (c *Cluster) ensureDatabase(ctx context.Context, sockdir string, port int, name string) error {
	admin := fmt.Sprintf("postgres://%s@/postgres?host=%s&port=%d&sslmode=disable", superuser, url.QueryEscape(sockdir), port)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connecting to the private cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "42P04" { // created concurrently
		return nil
	}
	return err
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bindir, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// unprivileged picks the account a root process runs PostgreSQL as.
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, but there is no unprivileged user (postgres or nobody) to run PostgreSQL as")
}
