package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"hansewiki/auth"
)

// readPassword takes the first line of standard input, so scripts can pipe
// a password in without it showing up in the process list.
func readPassword(stdin io.Reader) (string, error) {
	if stdin == nil {
		return "", errors.New("the password is read from standard input, which is empty")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on the first line of standard input")
	}
	return pw, nil
}

func cmdUser(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: hansewiki user add USERNAME [--name N] [--email E] | user passwd USERNAME | user token USERNAME [--name N] | user list"
	if len(args) == 1 && args[0] == "list" {
		return cmdUserList(ctx, cfg, log, stdout)
	}
	if len(args) < 2 {
		return errors.New(usage)
	}
	// One spelling of every user name: auth's (what "user add" stored).
	sub, username := args[0], auth.NormalizeUsername(args[1])
	fs := newFlags("user "+sub, stderr)
	name := fs.String("name", "", "display name (add) or token name (token)")
	email := fs.String("email", "", "e-mail address for notifications")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New(usage)
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	actor := cliActor()
	switch sub {
	case "add":
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		u, err := m.Auth.CreateUser(ctx, auth.NewUser{Username: username, DisplayName: *name, Email: *email, Password: pw}, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s\n", u.Username)
	case "passwd":
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := m.Auth.SetPassword(ctx, username, pw, actor); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions and API logins have ended\n", username)
	case "token":
		u, err := m.Auth.User(ctx, username)
		if err != nil {
			return err
		}
		secret, _, err := m.Auth.CreateToken(ctx, u.ID, auth.TokenPersonal, *name, 0, actor)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
	default:
		return errors.New(usage)
	}
	return nil
}

func cmdRole(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) >= 1 && args[0] == "list" {
		if len(args) > 2 {
			return errors.New("usage: hansewiki role list [USERNAME|CITY]")
		}
		return cmdRoleList(ctx, cfg, log, args[1:], stdout)
	}
	const usage = "usage: hansewiki role grant USERNAME author|reviewer|admin CITY|* [--until YYYY-MM-DD] | role revoke USERNAME ROLE CITY|*"
	args, untilText, err := untilFlag(args)
	if err != nil {
		return err
	}
	if len(args) != 4 || (args[0] != "grant" && args[0] != "revoke") || (args[0] == "revoke" && untilText != "") {
		return errors.New(usage)
	}
	until, err := auth.ParseDay("until", untilText)
	if err != nil {
		return fmt.Errorf("--until %q is not a date such as 2027-03-31", untilText)
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	op, user, role, city := args[0], auth.NormalizeUsername(args[1]), args[2], args[3]
	if op == "grant" {
		err = m.Auth.GrantUntil(ctx, user, role, city, until, cliActor())
	} else {
		err = m.Auth.Revoke(ctx, user, role, city, cliActor())
	}
	if err != nil {
		return err
	}
	if !until.IsZero() {
		fmt.Fprintf(stdout, "%s: %s %s in %s until %s\n", op, user, role, city, until.Format(time.DateOnly))
		return nil
	}
	fmt.Fprintf(stdout, "%s: %s %s in %s\n", op, user, role, city)
	return nil
}

// untilFlag takes --until DATE (or --until=DATE) from anywhere in args:
// it follows the positional arguments ("role grant U R C --until D").
func untilFlag(args []string) (rest []string, until string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--until" || a == "-until":
			if i+1 >= len(args) {
				return nil, "", errors.New("--until needs a date such as 2027-03-31")
			}
			until = args[i+1]
			i++
		case strings.HasPrefix(a, "--until=") || strings.HasPrefix(a, "-until="):
			_, until, _ = strings.Cut(a, "=")
		default:
			rest = append(rest, a)
		}
	}
	return rest, until, nil
}

func cmdCity(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 3 || args[0] != "add" {
		return errors.New(`usage: hansewiki city add SLUG "NAME"`)
	}
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	c, err := m.Store.AddCity(ctx, args[1], args[2], cliActor())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added city %s (%s)\n", c.Slug, c.Name)
	return nil
}
