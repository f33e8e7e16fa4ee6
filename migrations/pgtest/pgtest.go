// Package pgtest gives each test its own freshly migrated PostgreSQL
// database, cloned from a template database so it is fast, and drops it when
// the test ends. The server is TEST_DATABASE_URL when set, else the
// PostgreSQL at 127.0.0.1:5432 when it answers, else a private cluster
// started from the installed binaries. No server at all fails the test
// loudly: storage is never mocked.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/migrations"
	"hansewiki/migrations/pglocal"
)

const localServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=2"

var (
	once     sync.Once
	adminURL string // server's maintenance database
	template string // migrated template database name
	cluster  *pglocal.Cluster
	setupErr error
)

// Main runs the package's tests and stops a private cluster if one was
// started. Call it from TestMain in every package that uses this helper.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stopping private cluster:", err)
		}
		os.RemoveAll(clusterDir)
	}
	os.Exit(code)
}

var clusterDir string

// URL creates a fresh migrated database and returns its connection URL.
// The database is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: no PostgreSQL for tests: %v", setupErr)
	}
	ctx := context.Background()
	name := "hansewiki_test_" + randomHex(6)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)
	// Concurrent clones of one template can collide briefly; retry.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
			pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize()))
		if err == nil || attempt == 20 || !isObjectInUse(err) {
			break
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
		}
	})
	return withDatabase(adminURL, name)
}

// Pool returns a connection pool on a fresh migrated database.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	// Registered after URL's cleanup, so it runs first: close, then drop.
	t.Cleanup(pool.Close)
	return pool
}

func setup() {
	ctx := context.Background()
	adminURL, setupErr = chooseServer(ctx)
	if setupErr != nil {
		return
	}
	template, setupErr = ensureTemplate(ctx)
}

func chooseServer(ctx context.Context) (string, error) {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return "", fmt.Errorf("TEST_DATABASE_URL does not answer: %w", err)
		}
		conn.Close(ctx)
		return u, nil
	}
	if conn, err := pgx.Connect(ctx, localServer); err == nil {
		conn.Close(ctx)
		return localServer, nil
	}
	dir, err := os.MkdirTemp("", "hansewiki-pgtest-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // reachable for the unprivileged server user
		return "", err
	}
	clusterDir = dir
	cluster, err = pglocal.Start(ctx, pglocal.Options{Dir: dir + "/pg", Database: "postgres", NoSync: true})
	if err != nil {
		return "", fmt.Errorf("no server at TEST_DATABASE_URL or 127.0.0.1:5432, and no private cluster: %w", err)
	}
	return cluster.URL, nil
}

// ensureTemplate builds the migrated template once per schema version; all
// test processes share it. Its name carries a hash of the migrations, so a
// changed migration gets a new template and stale ones are dropped.
func ensureTemplate(ctx context.Context) (string, error) {
	all, err := migrations.All()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range all {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQL))
	}
	name := "hansewiki_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	// One process builds; the others wait for it.
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(7420691)`); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, `SELECT pg_advisory_unlock(7420691)`)

	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Templates of other schema versions are dropped once they are a few
	// hours old: a test run of another checkout (another branch, other
	// migrations) may still be cloning a young one.
	rows, _ := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'hansewiki\_tmpl\_%'
		AND coalesce(substring(shobj_description(oid, 'pg_database') FROM '^built ([0-9]+)$')::bigint, 0)
			< extract(epoch FROM now()) - 6 * 3600`)
	stale, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, s := range stale {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s}.Sanitize()+" WITH (FORCE)")
	}

	building := name + "_build"
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()+" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"); err != nil {
		return "", fmt.Errorf("creating template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(adminURL, building))
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrating template: %w", err)
	}
	// Renaming publishes the finished template atomically.
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s",
		pgx.Identifier{building}.Sanitize(), pgx.Identifier{name}.Sanitize())); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS 'built %d'",
		pgx.Identifier{name}.Sanitize(), time.Now().Unix())); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(base, db string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + db
	return u.String()
}

func isObjectInUse(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "55006" || err != nil && strings.Contains(err.Error(), "being accessed by other users")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
