package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Member is a user's role in a city, for the admin pages.
type Member struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	City        string `json:"city"`
	// Until is the last day the role holds (nil: no end); the periodic
	// job "roles.end" removes it after that day.
	Until *time.Time `json:"until,omitempty"`
}

// Grant gives username role in city ("*": every city). The change is
// audited in the same transaction and reaches every instance at once.
func (s *Service) Grant(ctx context.Context, username, role, city, actor string) error {
	return s.changeRole(ctx, username, role, city, actor, true, time.Time{})
}

// GrantUntil gives username role in city through the day until (a date;
// the zero time: no end). Granting a role that is held already sets its
// end date, or with the zero time removes it.
func (s *Service) GrantUntil(ctx context.Context, username, role, city string, until time.Time, actor string) error {
	return s.changeRole(ctx, username, role, city, actor, true, until)
}

// Revoke takes a role away again.
func (s *Service) Revoke(ctx context.Context, username, role, city, actor string) error {
	return s.changeRole(ctx, username, role, city, actor, false, time.Time{})
}

func (s *Service) changeRole(ctx context.Context, username, role, city, actor string, grant bool, until time.Time) error {
	username = NormalizeUsername(username)
	if !slices.Contains(Roles, role) {
		return invalid("role", "role.unknown", "the role must be author, reviewer or admin")
	}
	if !until.IsZero() {
		until = Day(until)
		if until.Before(Day(s.now())) {
			return invalid("until", "role.until_past", "the end date of a role must not lie in the past")
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = $1 AND id <> 1)`, username).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("user %s: %w", username, ErrNotFound)
		}
		if city != AllCities {
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cities WHERE slug = $1)`, city).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return invalid("city", "city.unknown", "there is no city "+city)
			}
		}
		var action string
		detail := map[string]any{"role": role, "city": city}
		if grant {
			action = "role.grant"
			if !until.IsZero() {
				detail["until"] = until.Format(time.DateOnly)
			}
			var ruleID int64
			err := tx.QueryRow(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', $1, $2, $3) ON CONFLICT DO NOTHING RETURNING id`, username, role, city).Scan(&ruleID)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				// Already held: only its end date may change.
				changed, err := setRoleEnd(ctx, tx, username, role, city, until)
				if err != nil || !changed {
					return err
				}
				if until.IsZero() {
					detail["until"] = nil // no end any more
				}
				return audit(ctx, tx, actor, action, "user:"+username, detail, "")
			case err != nil:
				return err
			case !until.IsZero():
				if _, err := tx.Exec(ctx, `INSERT INTO role_ends (rule_id, until) VALUES ($1, $2)`, ruleID, until); err != nil {
					return err
				}
			}
		} else {
			action = "role.revoke"
			tag, err := tx.Exec(ctx, `DELETE FROM casbin_rules WHERE ptype = 'g' AND v0 = $1 AND v1 = $2 AND v2 = $3`, username, role, city)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%s holds no role %s in %s: %w", username, role, city, ErrNotFound)
			}
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PolicyChannel); err != nil {
			return err
		}
		return audit(ctx, tx, actor, action, "user:"+username, detail, "")
	})
	if err != nil {
		return err
	}
	// This instance sees its own change before answering.
	return s.rolesChanged(username)
}

// rolesChanged runs after a transaction that granted or revoked roles of
// users has committed: every path that changes roles (the admin pages and
// CLI, an accepted invitation, group sync at an OpenID sign-in) ends here,
// so whatever depends on roles is refreshed in one place.
func (s *Service) rolesChanged(usernames ...string) error {
	return s.enf.reload()
}

// Members lists the role holders of city, or of every domain for "".
func (s *Service) Members(ctx context.Context, city string) ([]Member, error) {
	rows, _ := s.pool.Query(ctx, `SELECT u.username, u.display_name, r.v1, r.v2, e.until
		FROM casbin_rules r JOIN users u ON u.username = r.v0
		LEFT JOIN role_ends e ON e.rule_id = r.id
		WHERE r.ptype = 'g' AND ($1 = '' OR r.v2 = $1)
		ORDER BY r.v2, u.username, r.v1`, city)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Member])
}

// EndingRoles lists username's roles that end by themselves (Until set).
func (s *Service) EndingRoles(ctx context.Context, username string) ([]Member, error) {
	rows, _ := s.pool.Query(ctx, `SELECT u.username, u.display_name, r.v1, r.v2, e.until
		FROM casbin_rules r JOIN users u ON u.username = r.v0
		JOIN role_ends e ON e.rule_id = r.id
		WHERE r.ptype = 'g' AND r.v0 = $1
		ORDER BY r.v2, r.v1`, username)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Member])
}

// ReloadPolicy reads the policy again. Every instance calls it when
// PolicyChannel announces a change, and after its listener reconnected,
// since changes may have been missed meanwhile. (casbin's adapter
// interface takes no context; the load has its own timeout.)
func (s *Service) ReloadPolicy() error { return s.enf.reload() }
