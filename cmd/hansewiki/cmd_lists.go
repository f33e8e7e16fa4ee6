package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"hansewiki/auth"
)

// cmdUserList prints every account: name, display name, e-mail, state.
func cmdUserList(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) error {
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	users, err := m.Auth.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tSTATE")
	for _, u := range users {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, dash(u.DisplayName), dash(u.Email), state)
	}
	return tw.Flush()
}

// cmdRoleList prints the roles of one user, of one city ("*": the
// network-wide ones), or all of them.
func cmdRoleList(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout io.Writer) error {
	m, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer m.Close()
	members, err := m.Auth.Members(ctx, "")
	if err != nil {
		return err
	}
	filter := ""
	if len(args) == 1 {
		filter = args[0]
		// A city slug or "*" lists the city; anything else names a user.
		isCity := filter == auth.AllCities
		if !isCity {
			if _, err := m.Store.City(ctx, filter); err == nil {
				isCity = true
			}
		}
		if !isCity {
			u, err := m.Auth.User(ctx, filter)
			if err != nil {
				return fmt.Errorf("%s is neither a city nor a user: %w", filter, err)
			}
			filter = "user:" + u.Username
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tCITY\tUNTIL")
	for _, mb := range members {
		if filter != "" && filter != mb.City && filter != "user:"+mb.Username {
			continue
		}
		until := "-"
		if mb.Until != nil {
			until = mb.Until.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mb.Username, mb.Role, mb.City, until)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
