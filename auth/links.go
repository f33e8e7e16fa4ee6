package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Account links are single-use secrets sent by mail: an invitation (an
// administrator asks someone by address to make an account, optionally with
// roles) and a password reset. Only a SHA-256 of the secret is stored; a
// link works once, until it expires.
const (
	LinkInvite = "invite"
	LinkReset  = "reset"

	InviteLifetime = 7 * 24 * time.Hour
	ResetLifetime  = time.Hour
)

// Deliver queues the mail that carries a link's secret, in the transaction
// that created the link, so the link exists exactly when its mail does.
type Deliver func(ctx context.Context, tx pgx.Tx, to, secret string) error

// Link is a valid, unused account link as its holder sees it.
type Link struct {
	ID        int64
	Kind      string
	Email     string
	Username  string // reset: the account
	Roles     []Grant
	CreatedBy string
	ExpiresAt time.Time
}

// Limits on link requests within the throttle window: reset mails per
// client address and per address asked for, invitations per inviter.
const (
	resetsPerAddr  = 5
	resetsPerEmail = 3
	invitesPerUser = 30
)

func newLinkSecret() (string, []byte) {
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := "hwl_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(secret))
	return secret, sum[:]
}

func validEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", invalid("email", "email.format", "the e-mail address is not valid")
	}
	return email, nil
}

// RequestReset sends a reset link to every enabled account with this
// address. The answer is the same whether or not an account has it (no
// account enumeration); requests are throttled per client address and per
// address asked for, whether or not it is known.
func (s *Service) RequestReset(ctx context.Context, email, addr string, deliver Deliver) error {
	email, err := validEmail(email)
	if err != nil {
		return err
	}
	if _, err := s.reserve(ctx, throttleKey{name: "reset-addr:" + addressKey(addr).name, limit: resetsPerAddr},
		throttleKey{name: "reset-mail:" + strings.ToLower(email), limit: resetsPerEmail}); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, username FROM users WHERE lower(email) = lower($1) AND NOT disabled AND id <> 1 ORDER BY id`, email)
		type account struct {
			ID       int64
			Username string
		}
		users, err := pgx.CollectRows(rows, pgx.RowToStructByPos[account])
		if err != nil {
			return err
		}
		for _, u := range users {
			secret, hash := newLinkSecret()
			if _, err := tx.Exec(ctx, `INSERT INTO account_links (kind, token_hash, email, user_id, created_by, client_addr, expires_at)
				VALUES ('reset', $1, $2, $3, $4, $5, now() + $6::interval)`, hash, email, u.ID, u.Username, addr, ResetLifetime.String()); err != nil {
				return err
			}
			// Whoever asked is not known: anyone may ask for anyone.
			if err := audit(ctx, tx, "anonymous", "user.reset_request", "user:"+u.Username, nil, addr); err != nil {
				return err
			}
			if err := deliver(ctx, tx, email, secret); err != nil {
				return err
			}
		}
		return nil
	})
}

// Invite creates an invitation for email carrying roles, and returns its
// secret (shown to the inviter when no mail is configured). Who may invite
// with which roles is the route's decision; Invite checks the roles exist.
func (s *Service) Invite(ctx context.Context, inviter *Identity, email string, roles []Grant, addr string, deliver Deliver) (string, error) {
	email, err := validEmail(email)
	if err != nil {
		return "", err
	}
	for _, g := range roles {
		if !slices.Contains(Roles, g.Role) {
			return "", invalid("role", "role.unknown", "the role must be author, reviewer or admin")
		}
	}
	if _, err := s.reserve(ctx, throttleKey{name: "invite:" + inviter.Username, limit: invitesPerUser}); err != nil {
		return "", err
	}
	secret, hash := newLinkSecret()
	r, _ := json.Marshal(roles)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, g := range roles {
			if g.City == AllCities {
				continue
			}
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cities WHERE slug = $1)`, g.City).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return invalid("city", "city.unknown", "there is no city "+g.City)
			}
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO account_links (kind, token_hash, email, roles, created_by, client_addr, expires_at)
			VALUES ('invite', $1, $2, $3, $4, $5, now() + $6::interval) RETURNING id`, hash, email, r, inviter.Username, addr, InviteLifetime.String()).Scan(&id); err != nil {
			return err
		}
		if err := audit(ctx, tx, inviter.Username, "user.invite", "invitation:"+fmt.Sprint(id), map[string]any{"email": email, "roles": roles}, addr); err != nil {
			return err
		}
		if deliver != nil {
			return deliver(ctx, tx, email, secret)
		}
		return nil
	})
	return secret, err
}

// ErrLinkInvalid answers an unknown, used or expired link alike.
var ErrLinkInvalid = fmt.Errorf("this link is unknown, used or expired: %w", ErrNotFound)

// LinkBySecret looks a valid, unused link up.
func (s *Service) LinkBySecret(ctx context.Context, kind, secret string) (Link, error) {
	return linkBySecret(ctx, s.pool, kind, secret, false)
}

func linkBySecret(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, kind, secret string, lock bool) (Link, error) {
	if !strings.HasPrefix(secret, "hwl_") || len(secret) > 100 {
		return Link{}, ErrLinkInvalid
	}
	sum := sha256.Sum256([]byte(secret))
	var l Link
	var roles []byte
	sql := `SELECT l.id, l.kind, l.email, coalesce(u.username, ''), l.roles, l.created_by, l.expires_at
		FROM account_links l LEFT JOIN users u ON u.id = l.user_id
		WHERE l.token_hash = $1 AND l.kind = $2 AND l.used_at IS NULL AND l.expires_at > now()
			AND (l.user_id IS NULL OR NOT u.disabled)`
	if lock {
		sql += ` FOR UPDATE OF l`
	}
	err := q.QueryRow(ctx, sql, sum[:], kind).Scan(&l.ID, &l.Kind, &l.Email, &l.Username, &roles, &l.CreatedBy, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Link{}, ErrLinkInvalid
	}
	if err != nil {
		return Link{}, err
	}
	if err := json.Unmarshal(roles, &l.Roles); err != nil {
		return Link{}, err
	}
	return l, nil
}

// ResetPassword sets a new password with a reset link, once. Like every
// password change it ends all sessions and login tokens of the account.
func (s *Service) ResetPassword(ctx context.Context, secret, password, addr string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	var username string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, err := linkBySecret(ctx, tx, LinkReset, secret, true)
		if err != nil {
			return err
		}
		username = l.Username
		if _, err := tx.Exec(ctx, `UPDATE account_links SET used_at = now() WHERE id = $1`, l.ID); err != nil {
			return err
		}
		// Any other reset link of the account ends with this one.
		if _, err := tx.Exec(ctx, `UPDATE account_links SET used_at = now() WHERE kind = 'reset' AND used_at IS NULL
			AND user_id = (SELECT id FROM users WHERE username = $1)`, username); err != nil {
			return err
		}
		_, err = setPassword(ctx, tx, username, hash, nil, username)
		return err
	})
	return username, err
}

// AcceptInvitation makes the invited account, once: the person chooses
// user name, name and password; the roles the invitation carries are
// granted in the inviter's name.
func (s *Service) AcceptInvitation(ctx context.Context, secret string, u NewUser) (User, error) {
	l, err := s.LinkBySecret(ctx, LinkInvite, secret)
	if err != nil {
		return User{}, err
	}
	u.Email = l.Email
	out, err := s.createUser(ctx, u, NormalizeUsername(u.Username), func(tx pgx.Tx, user User) error {
		if _, err := linkBySecret(ctx, tx, LinkInvite, secret, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE account_links SET used_at = now(), user_id = $2 WHERE id = $1`, l.ID, user.ID); err != nil {
			return err
		}
		for _, g := range l.Roles {
			if _, err := tx.Exec(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', $1, $2, $3) ON CONFLICT DO NOTHING`, user.Username, g.Role, g.City); err != nil {
				return err
			}
			if err := audit(ctx, tx, l.CreatedBy, "role.grant", "user:"+user.Username, map[string]any{"role": g.Role, "city": g.City}, ""); err != nil {
				return err
			}
		}
		if len(l.Roles) > 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PolicyChannel); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	if len(l.Roles) > 0 {
		return out, s.rolesChanged(out.Username)
	}
	return out, nil
}
