package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"hansewiki/workflow"
)

const auditUsage = "usage: hansewiki audit verify [--expect SEQ:HASH] | audit export [--object O] [--actor A] [--action PREFIX] FILE|-"

// verifyProgressFrom is the log size from which verify shows its progress;
// smaller logs are checked in a blink.
const verifyProgressFrom = 10000

func cmdAudit(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	switch args[0] {
	case "verify":
		return cmdAuditVerify(ctx, cfg, log, args[1:], stdout, stderr)
	case "export":
		return cmdAuditExport(ctx, cfg, log, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown audit command %q; %s", args[0], auditUsage)
}

// cmdAuditVerify recomputes the hash chain of the audit log. A broken chain
// is an error, so the exit status tells scripts and monitoring.
func cmdAuditVerify(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", stderr)
	expect := fs.String("expect", "", "an earlier `SEQ:HASH` (as verify printed it) the log must still hold")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New(auditUsage)
	}
	var expectSeq int64
	var expectHash string
	if *expect != "" {
		seq, hash, ok := strings.Cut(*expect, ":")
		n, err := strconv.ParseInt(seq, 10, 64)
		if !ok || err != nil || n < 1 || len(hash) != 64 {
			return fmt.Errorf("--expect %q: want SEQ:HASH as verify prints it, e.g. 42:%s", *expect, strings.Repeat("0", 64))
		}
		expectSeq, expectHash = n, strings.ToLower(hash)
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	var bar *progress
	res, err := workflow.VerifyAudit(ctx, m.Pool, func(done, total int64) {
		if bar == nil && total >= verifyProgressFrom {
			bar = newProgress(stderr, "Audit", int(total))
		}
		if bar != nil {
			bar.Set(int(min(done, total)), "")
		}
	})
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return fmt.Errorf("verifying the audit log: %w", err)
	}
	if res.FirstBad != 0 {
		return fmt.Errorf("audit log BROKEN at chain position %d: %s%s (%d events checked)",
			res.FirstBad, res.Reason, describeEvent(ctx, m, res.FirstBad), res.Events)
	}
	// An intact chain can still have lost its newest events, or been
	// rewritten from some point to its end: an anchor kept outside the
	// database reveals both.
	if expectSeq > 0 {
		if expectSeq > res.Events {
			return fmt.Errorf("audit log TRUNCATED: it ends at event %d, but event %d was recorded earlier", res.Events, expectSeq)
		}
		var hash string
		if err := m.Pool.QueryRow(ctx, `SELECT encode(hash, 'hex') FROM audit_events WHERE chain_seq = $1`, expectSeq).Scan(&hash); err != nil {
			return err
		}
		if hash != expectHash {
			return fmt.Errorf("audit log REWRITTEN: event %d has hash %s, but %s was recorded earlier", expectSeq, hash, expectHash)
		}
	}
	fmt.Fprintf(stdout, "audit log intact: %d events\n", res.Events)
	if res.Events > 0 {
		var hash string
		if err := m.Pool.QueryRow(ctx, `SELECT encode(hash, 'hex') FROM audit_events WHERE chain_seq = $1`, res.Events).Scan(&hash); err == nil {
			fmt.Fprintf(stdout, "newest event: %d:%s\n", res.Events, hash)
			fmt.Fprintf(stdout, "keep this outside the database; later `hansewiki audit verify --expect %d:%s` proves the log still holds it\n", res.Events, hash)
		}
	}
	return nil
}

// describeEvent says what the event at chain position seq records now, to
// help whoever investigates; "" when there is none.
func describeEvent(ctx context.Context, m *Main, seq int64) string {
	var e workflow.AuditEvent
	err := m.Pool.QueryRow(ctx, `SELECT at, actor, action, object FROM audit_events WHERE chain_seq = $1`, seq).
		Scan(&e.At, &e.Actor, &e.Action, &e.Object)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("; the event there now reads %s %s on %s at %s", e.Actor, e.Action, e.Object, e.At.UTC().Format("2006-01-02 15:04:05Z"))
}

// cmdAuditExport writes the (filtered) audit log as CSV, oldest event first.
func cmdAuditExport(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit export", stderr)
	var f workflow.AuditFilter
	fs.StringVar(&f.Object, "object", "", "only events about this object, e.g. change:42 or article:rostock/pegel")
	fs.StringVar(&f.Actor, "actor", "", "only events by this user")
	fs.StringVar(&f.Action, "action", "", "only actions starting with this, e.g. change.")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New(auditUsage)
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	var events []workflow.AuditEvent
	f.Limit = 1000
	for {
		page, err := workflow.Audit(ctx, m.Pool, f)
		if err != nil {
			return fmt.Errorf("reading the audit log: %w", err)
		}
		events = append(events, page...)
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].Seq
	}
	slices.Reverse(events)
	name := files[0]
	if name == "-" {
		if err := workflow.WriteAuditCSV(stdout, events); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "exported %d audit events\n", len(events))
		return nil
	}
	if err := writeFileAtomic(name, func(w io.Writer) error { return workflow.WriteAuditCSV(w, events) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d audit events to %s\n", len(events), name)
	return nil
}

// parseInterspersed parses flags before and after the positional
// arguments, so "export out.csv --actor x" works like "export --actor x out.csv".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// writeFileAtomic writes name through a temporary file in the same folder,
// so a failed export never leaves half a file behind.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
