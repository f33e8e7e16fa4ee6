package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// A password change, a reset and disabling an account end what was signed
// in with the old credentials: the account's credentials version goes up,
// which every session (SessionIdentity) and login token (TokenIdentity)
// checks on every request, on every instance at once. Login tokens are also
// marked revoked, so the account page and the audit agree. Personal access
// tokens are not tied to the password and stay until revoked.

// SetPassword replaces a user's password (administrators, the CLI) and ends
// every session and login token of the account.
func (s *Service) SetPassword(ctx context.Context, username, password, actor string) error {
	username = NormalizeUsername(username)
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := setPassword(ctx, tx, username, hash, nil, actor)
		return err
	})
}

// ChangePassword lets a signed-in user replace their own password. Every
// other session and login token of the account ends; the caller keeps its
// own session by storing the returned credentials version in it. Browsers
// known to the account are forgotten, except the one presenting keep.
// Checks of the current password are throttled like sign-ins.
func (s *Service) ChangePassword(ctx context.Context, id *Identity, old, new string, keep []string) (int64, error) {
	if err := checkPassword(new); err != nil {
		return 0, err
	}
	attempt, err := s.reserve(ctx, throttleKey{name: fmt.Sprintf("passwd:%d", id.UserID)})
	if err != nil {
		return 0, err
	}
	var hash string
	if err := s.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id.UserID).Scan(&hash); err != nil {
		return 0, err
	}
	if ok, err := s.hasher.Verify(ctx, hash, old); err != nil || !ok {
		return 0, invalid("old_password", "password.wrong", "the current password is not correct")
	}
	newHash, err := s.hasher.Hash(ctx, new)
	if err != nil {
		return 0, err
	}
	var version int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.release(ctx, tx, attempt); err != nil {
			return err
		}
		version, err = setPassword(ctx, tx, id.Username, newHash, keep, id.Username)
		return err
	})
	return version, err
}

func setPassword(ctx context.Context, tx pgx.Tx, username, hash string, keepDevices []string, actor string) (int64, error) {
	var userID, version int64
	err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2, credentials_version = credentials_version + 1
		WHERE username = $1 AND id <> 1 RETURNING id, credentials_version`, username, hash).Scan(&userID, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if err := revokeLoginTokens(ctx, tx, userID); err != nil {
		return 0, err
	}
	// A browser known from before the change keeps no head start on
	// guessing the new password.
	if err := forgetDevices(ctx, tx, userID, keepDevices); err != nil {
		return 0, err
	}
	return version, audit(ctx, tx, actor, "user.password", "user:"+username, nil, "")
}

func revokeLoginTokens(ctx context.Context, tx pgx.Tx, userID int64) error {
	_, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND kind = 'login' AND revoked_at IS NULL`, userID)
	return err
}

// DisableHook runs in the transaction that disables account userID, so
// what depends on the account (the articles it owns) moves with it or not
// at all.
type DisableHook func(ctx context.Context, tx pgx.Tx, userID int64, actor string) error

// OnDisable adds a hook that runs whenever an account is disabled.
func (s *Service) OnDisable(h DisableHook) {
	s.disableHooks.Lock()
	defer s.disableHooks.Unlock()
	s.disableHooks.list = append(s.disableHooks.list, h)
}

// SetDisabled locks or unlocks an account. A locked account cannot sign
// in, and its sessions and tokens stop working at once; unlocking it
// brings back its personal access tokens, but no session or login token.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool, actor string) error {
	username = NormalizeUsername(username)
	// Nobody locks themselves out (and a network without admins).
	if disabled && username == NormalizeUsername(actor) {
		return invalid("username", "user.self_disable", "you cannot disable your own account")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `UPDATE users SET disabled = $2,
				credentials_version = credentials_version + CASE WHEN $2 THEN 1 ELSE 0 END
			WHERE username = $1 AND id <> 1 RETURNING id`, username, disabled).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %s: %w", username, ErrNotFound)
		}
		if err != nil {
			return err
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
			if err := revokeLoginTokens(ctx, tx, userID); err != nil {
				return err
			}
			s.disableHooks.Lock()
			hooks := slices.Clone(s.disableHooks.list)
			s.disableHooks.Unlock()
			for _, h := range hooks {
				if err := h(ctx, tx, userID, actor); err != nil {
					return err
				}
			}
		}
		return audit(ctx, tx, actor, action, "user:"+username, nil, "")
	})
}

// SessionIdentity loads the user of a session that was signed in under
// credentials version: sessions of disabled or missing accounts, and
// sessions from before a password change, are ErrUnauthenticated.
func (s *Service) SessionIdentity(ctx context.Context, userID, version int64) (*Identity, error) {
	id, err := s.IdentityByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if id.CredentialsVersion != version {
		return nil, ErrUnauthenticated
	}
	return id, nil
}
