package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Roles with an end date (issue 14). A role granted until a day holds
// through that day, as the network's cities count days (Europe/Berlin);
// the periodic job that calls EndRoles removes it once the day is over,
// audited, and every instance drops it at once (the rule's deletion is
// announced on PolicyChannel and by the casbin_rules trigger).

// Berlin is the time zone in which the network's days begin and end.
var Berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}()

// Day is the calendar day of t in Berlin, as midnight UTC of that date
// (how PostgreSQL's date type comes back), so days compare with Before.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Berlin).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDay reads a date written YYYY-MM-DD ("" is the zero time).
func ParseDay(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &InvalidError{Field: field, Key: "date.format", Message: "a date is written YYYY-MM-DD"}
	}
	return t, nil
}

// RoleEndActor is who the audit log names for a role that ended by itself.
const RoleEndActor = "jobs"

// setRoleEnd sets (or with the zero time removes) the end date of a role
// that is held, and reports whether that changed anything.
func setRoleEnd(ctx context.Context, tx pgx.Tx, username, role, city string, until time.Time) (bool, error) {
	var ruleID int64
	var old *time.Time
	err := tx.QueryRow(ctx, `SELECT r.id, e.until FROM casbin_rules r LEFT JOIN role_ends e ON e.rule_id = r.id
		WHERE r.ptype = 'g' AND r.v0 = $1 AND r.v1 = $2 AND r.v2 = $3 FOR UPDATE OF r`, username, role, city).Scan(&ruleID, &old)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // revoked meanwhile
	}
	if err != nil {
		return false, err
	}
	switch {
	case until.IsZero() && old == nil, old != nil && old.Equal(until):
		return false, nil
	case until.IsZero():
		_, err = tx.Exec(ctx, `DELETE FROM role_ends WHERE rule_id = $1`, ruleID)
	default:
		_, err = tx.Exec(ctx, `INSERT INTO role_ends (rule_id, until) VALUES ($1, $2)
			ON CONFLICT (rule_id) DO UPDATE SET until = EXCLUDED.until`, ruleID, until)
	}
	return err == nil, err
}

// EndRoles removes every role whose last day lies before asOf's day, each
// with an audit event ("role.end"), and returns how many ended. Running it
// again for the same asOf ends nothing more.
func (s *Service) EndRoles(ctx context.Context, asOf time.Time) (int, error) {
	today := Day(asOf)
	var ended []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ended = nil
		rows, _ := tx.Query(ctx, `DELETE FROM casbin_rules r USING role_ends e
			WHERE e.rule_id = r.id AND r.ptype = 'g' AND e.until < $1
			RETURNING r.v0, r.v1, r.v2, e.until`, today)
		type end struct {
			user, role, city string
			until            time.Time
		}
		var ends []end
		var e end
		if _, err := pgx.ForEachRow(rows, []any{&e.user, &e.role, &e.city, &e.until}, func() error {
			ends = append(ends, e)
			return nil
		}); err != nil {
			return err
		}
		if len(ends) == 0 {
			return nil
		}
		for _, e := range ends {
			if err := audit(ctx, tx, RoleEndActor, "role.end", "user:"+e.user, map[string]any{"role": e.role, "city": e.city,
				"until": e.until.Format(time.DateOnly), "as_of": asOf.UTC().Format(time.RFC3339)}, ""); err != nil {
				return err
			}
			ended = append(ended, e.user)
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PolicyChannel)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ending roles: %w", err)
	}
	if len(ended) > 0 {
		if err := s.rolesChanged(ended...); err != nil {
			return len(ended), err
		}
	}
	return len(ended), nil
}
