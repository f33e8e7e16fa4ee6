// Command hansewiki runs the Hansewiki server and its administrative tasks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Hansewiki — the knowledge wiki of the Smarte Hanse

Usage:
  hansewiki serve [--no-migrate]   run the web server (HANSEWIKI_ADDR, default :8080)
  hansewiki migrate                bring the database schema up to date
  hansewiki import DIR             publish every DIR/{city}/{slug}.md as an audited import
  hansewiki export DIR             write every published article as DIR/{city}/{slug}.md
  hansewiki seed --demo            import the built-in demo articles and make demo accounts
  hansewiki user add USERNAME [--name N] [--email E]
                                   create an account; the password is the first line of stdin
  hansewiki user passwd USERNAME   set a password (first line of stdin)
  hansewiki user token USERNAME    print a new personal access token
  hansewiki user list              list every account
  hansewiki role grant|revoke USERNAME author|reviewer|admin CITY|*
  hansewiki role list [USERNAME|CITY]
                                   list roles: all, one person's, or one city's
  hansewiki city add SLUG NAME     add a member city
  hansewiki audit verify [--expect SEQ:HASH]
                                   check the hash chain of the audit log (and that it
                                   still holds an event verify printed earlier)
  hansewiki audit export [--object O] [--actor A] FILE|-
                                   write the audit log as CSV
  hansewiki reindex                rebuild the Meilisearch index from PostgreSQL
  hansewiki jobs run [--as-of TIME]
                                   do the periodic work (reminders, escalation, freshness,
                                   digests, ending roles) once, as of TIME (RFC 3339)

Every command reads DATABASE_URL; without it, a private PostgreSQL cluster
runs under HANSEWIKI_DATA_DIR (default ./data).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hansewiki:", err)
		}
		os.Exit(1)
	}
}

// run dispatches one command; tests call it like the shell would.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	switch cmd {
	case "serve":
		return cmdServe(ctx, cfg, log, rest, stderr)
	case "migrate":
		return cmdMigrate(ctx, cfg, log, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, cfg, log, rest, stdout, stderr)
	case "export":
		return cmdExport(ctx, cfg, log, rest, stdout, stderr)
	case "seed":
		return cmdSeed(ctx, cfg, log, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, cfg, log, rest, stdin, stdout, stderr)
	case "role":
		return cmdRole(ctx, cfg, log, rest, stdout)
	case "city":
		return cmdCity(ctx, cfg, log, rest, stdout)
	case "audit":
		return cmdAudit(ctx, cfg, log, rest, stdout, stderr)
	case "reindex":
		return cmdReindex(ctx, cfg, log, rest, stdout, stderr)
	case "jobs":
		return cmdJobs(ctx, cfg, log, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("hansewiki "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// open starts Main without the HTTP side, for CLI commands.
func open(ctx context.Context, cfg Config, log *slog.Logger) (*Main, error) {
	m := &Main{Config: cfg, Log: log}
	if err := m.Open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func cmdServe(ctx context.Context, cfg Config, log *slog.Logger, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	noMigrate := fs.Bool("no-migrate", false, "do not migrate; refuse to start on an outdated schema")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := &Main{Config: cfg, Log: log, SkipMigrate: *noMigrate}
	defer func() {
		if err := m.Close(); err != nil {
			log.Error("close", "err", err)
		}
	}()
	if err := m.Open(ctx); err != nil {
		return err
	}
	if err := m.Listen(ctx); err != nil {
		return err
	}
	return m.Serve(ctx)
}

func cmdMigrate(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if err := newFlags("migrate", stderr).Parse(args); err != nil {
		return err
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintln(stdout, "database schema is up to date")
	return nil
}
