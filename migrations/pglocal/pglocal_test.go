package pglocal

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The private cluster is the embedded default, so it is tested for real:
// init, start, a query, reuse by a second Start, stop.
func TestStartQueryReuseStop(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Fatal(err) // loud: the embedded default needs the binaries
	}
	ctx := context.Background()
	// t.TempDir's parent is private to root; the server user must reach it.
	tmp, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := tmp + "/pg"
	c, err := Start(ctx, Options{Dir: dir, Database: "wiki", NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatal(err)
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "wiki" {
		t.Fatalf("current_database = %q, %v", db, err)
	}
	conn.Close(ctx)

	again, err := Start(ctx, Options{Dir: dir, Database: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if again.started {
		t.Error("second Start should reuse the running cluster, not start another")
	}
	if err := again.Stop(); err != nil { // no-op: it did not start it
		t.Fatal(err)
	}
	if _, _, ok := c.runningSocket(); !ok {
		t.Fatal("cluster stopped by a process that only reused it")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.runningSocket(); ok {
		t.Fatal("cluster still running after Stop")
	}
}
