package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Service manages accounts, tokens and roles, and answers permission
// questions.
type Service struct {
	pool   *pgxpool.Pool
	hasher *Hasher
	enf    *enforcer
	log    *slog.Logger
	// dummyHash is verified for unknown users so that a login takes as long
	// whether or not the account exists.
	dummyHash string
	Throttle  Throttle
}

// Throttle limits failed logins within Window.
type Throttle struct {
	Window     time.Duration
	PerAccount int
	PerAddress int
}

// Options configure the service.
type Options struct {
	Log *slog.Logger
	// ConcurrentHashes bounds parallel argon2id runs (default 4: 76 MiB).
	ConcurrentHashes int
}

// NewService loads the policy and prepares password hashing.
func NewService(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Service, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.ConcurrentHashes == 0 {
		opts.ConcurrentHashes = 4
	}
	enf, err := newEnforcer(pool)
	if err != nil {
		return nil, err
	}
	s := &Service{pool: pool, hasher: NewHasher(opts.ConcurrentHashes), enf: enf, log: opts.Log,
		Throttle: Throttle{Window: 15 * time.Minute, PerAccount: 5, PerAddress: 30}}
	if s.dummyHash, err = s.hasher.Hash(ctx, "hansewiki-dummy-password"); err != nil {
		return nil, err
	}
	return s, nil
}

// Hasher exposes the password hasher (benchmarks measure its memory bound).
func (s *Service) Hasher() *Hasher { return s.hasher }

// User is an account as administrators see it.
type User struct {
	ID          int64     `json:"-"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// NewUser is what creating an account needs.
type NewUser struct {
	Username, DisplayName, Email, Password string
}

// CreateUser creates an account.
func (s *Service) CreateUser(ctx context.Context, u NewUser, actor string) (User, error) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	if !usernamePattern.MatchString(u.Username) || u.Username == "hansewiki" {
		return User{}, invalid("username", "username.format", "user names have 2–64 characters: a–z, 0–9, dot, hyphen, underscore")
	}
	u.Email = strings.TrimSpace(u.Email)
	if u.Email != "" && (!strings.Contains(u.Email, "@") || len(u.Email) > 254 || strings.ContainsAny(u.Email, " \r\n<>")) {
		return User{}, invalid("email", "email.format", "the e-mail address is not valid")
	}
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if len(u.DisplayName) > 200 || strings.ContainsAny(u.DisplayName, "\r\n") {
		return User{}, invalid("display_name", "display_name.length", "the name may have at most 200 characters")
	}
	if err := checkPassword(u.Password); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, u.Password)
	if err != nil {
		return User{}, err
	}
	var out User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (username, display_name, email, password_hash)
			VALUES ($1, $2, $3, $4) RETURNING id, username, display_name, email, disabled, created_at`,
			u.Username, u.DisplayName, u.Email, hash).Scan(&out.ID, &out.Username, &out.DisplayName, &out.Email, &out.Disabled, &out.CreatedAt)
		if pgCode(err) == "23505" {
			return fmt.Errorf("user %s already exists: %w", u.Username, ErrConflict)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "user.create", "user:"+u.Username, nil, "")
	})
	return out, err
}

// SetPassword replaces a user's password (administrators, the CLI).
func (s *Service) SetPassword(ctx context.Context, username, password, actor string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE username = $1`, username, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %s: %w", username, ErrNotFound)
		}
		return audit(ctx, tx, actor, "user.password", "user:"+username, nil, "")
	})
}

// ChangePassword lets a signed-in user replace their own password.
func (s *Service) ChangePassword(ctx context.Context, id *Identity, old, new, addr string) error {
	var hash string
	if err := s.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id.UserID).Scan(&hash); err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, hash, old)
	if err != nil || !ok {
		return invalid("old_password", "password.wrong", "the current password is not correct")
	}
	return s.SetPassword(ctx, id.Username, new, id.Username)
}

// SetDisabled locks or unlocks an account. A locked account cannot sign
// in, and its sessions and tokens stop working at once.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool, actor string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET disabled = $2 WHERE username = $1 AND id <> 1`, username, disabled)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %s: %w", username, ErrNotFound)
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
		}
		return audit(ctx, tx, actor, action, "user:"+username, nil, "")
	})
}

// Users lists every account except the system account.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, username, display_name, email, disabled, created_at
		FROM users WHERE id <> 1 ORDER BY username`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[User])
}

// Login checks a user name and password, with throttling per account and
// per client address. Unknown users, wrong passwords and disabled accounts
// all get ErrBadCredentials after the same amount of work.
func (s *Service) Login(ctx context.Context, username, password, addr string) (*Identity, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if len(username) > 64 || len(password) > MaxPasswordLen {
		return nil, ErrBadCredentials
	}
	accountKey, addrKey := "user:"+username, "addr:"+addr
	if wait, err := s.throttled(ctx, accountKey, addrKey); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	var id int64
	var hash string
	var disabled bool
	err := s.pool.QueryRow(ctx, `SELECT id, password_hash, disabled FROM users WHERE username = $1 AND id <> 1`, username).
		Scan(&id, &hash, &disabled)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if err != nil || hash == "" {
		hash = s.dummyHash
	}
	ok, verr := s.hasher.Verify(ctx, hash, password)
	if verr != nil && !errors.Is(err, pgx.ErrNoRows) {
		s.log.Error("verifying a password hash", "user", username, "err", verr)
	}
	if err != nil || !ok || verr != nil || disabled || hash == s.dummyHash {
		s.recordFailure(ctx, username, accountKey, addrKey, addr)
		return nil, ErrBadCredentials
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, accountKey); err != nil {
		return nil, err
	}
	if err := audit(ctx, s.pool, username, "login", "user:"+username, nil, addr); err != nil {
		return nil, err
	}
	return s.IdentityByID(ctx, id)
}

func (s *Service) throttled(ctx context.Context, accountKey, addrKey string) (time.Duration, error) {
	var accountN, addrN int
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE key = $1), count(*) FILTER (WHERE key = $2), min(at)
		FROM login_failures WHERE key IN ($1, $2) AND at > now() - $3::interval`,
		accountKey, addrKey, s.Throttle.Window.String()).Scan(&accountN, &addrN, &oldest)
	if err != nil {
		return 0, err
	}
	if accountN < s.Throttle.PerAccount && addrN < s.Throttle.PerAddress {
		return 0, nil
	}
	wait := s.Throttle.Window
	if oldest != nil {
		wait = time.Until(oldest.Add(s.Throttle.Window))
	}
	return max(wait, time.Second), nil
}

func (s *Service) recordFailure(ctx context.Context, username, accountKey, addrKey, addr string) {
	_, err := s.pool.Exec(ctx, `INSERT INTO login_failures (key) VALUES ($1), ($2)`, accountKey, addrKey)
	if err == nil {
		err = audit(ctx, s.pool, "anonymous", "login.failed", "user:"+username, nil, addr)
	}
	if err != nil {
		s.log.Error("recording a failed login", "err", err)
	}
}

// IdentityByID loads a signed-in user with their roles; disabled or missing
// accounts are ErrUnauthenticated.
func (s *Service) IdentityByID(ctx context.Context, userID int64) (*Identity, error) {
	id := &Identity{}
	var disabled bool
	err := s.pool.QueryRow(ctx, `SELECT id, username, display_name, email, disabled FROM users WHERE id = $1 AND id <> 1`, userID).
		Scan(&id.UserID, &id.Username, &id.DisplayName, &id.Email, &disabled)
	if errors.Is(err, pgx.ErrNoRows) || disabled {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if id.Grants, err = s.grants(ctx, id.Username); err != nil {
		return nil, err
	}
	return id, nil
}

func (s *Service) grants(ctx context.Context, username string) ([]Grant, error) {
	rows, _ := s.pool.Query(ctx, `SELECT v2, v1 FROM casbin_rules WHERE ptype = 'g' AND v0 = $1 ORDER BY v2, v1`, username)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Grant])
}

// Token is a bearer token's metadata; the secret is shown only at creation.
type Token struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// Token kinds.
const (
	TokenPersonal = "personal"
	TokenLogin    = "login"
)

// LoginTokenLifetime bounds tokens from POST /api/v1/auth/login.
const LoginTokenLifetime = 12 * time.Hour

// CreateToken makes a bearer token for userID and returns its secret, which
// is stored only as a SHA-256 hash. ttl 0 means no expiry.
func (s *Service) CreateToken(ctx context.Context, userID int64, kind, name string, ttl time.Duration, actor string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return "", Token{}, invalid("name", "token.name", "the token name may have at most 100 characters")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Token{}, err
	}
	secret := "hw_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(secret))
	var expires *time.Time
	if ttl > 0 {
		t := time.Now().Add(ttl)
		expires = &t
	}
	var tok Token
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var username string
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, kind, name, token_hash, expires_at)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING id, kind, name, created_at, expires_at, last_used_at, revoked_at,
				(SELECT username FROM users WHERE id = $1)`,
			userID, kind, name, sum[:], expires).Scan(&tok.ID, &tok.Kind, &tok.Name, &tok.CreatedAt, &tok.ExpiresAt, &tok.LastUsedAt, &tok.RevokedAt, &username)
		if err != nil {
			return err
		}
		if kind == TokenLogin {
			return nil // logins are audited as such
		}
		return audit(ctx, tx, actor, "token.create", "user:"+username, map[string]any{"token": tok.ID, "name": name}, "")
	})
	return secret, tok, err
}

// TokenIdentity resolves a bearer token. Revoked, expired and unknown
// tokens, and tokens of disabled users, are ErrUnauthenticated.
func (s *Service) TokenIdentity(ctx context.Context, secret string) (*Identity, error) {
	if !strings.HasPrefix(secret, "hw_") || len(secret) > 100 {
		return nil, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(secret))
	var userID int64
	err := s.pool.QueryRow(ctx, `UPDATE api_tokens SET last_used_at = now()
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
		RETURNING user_id`, sum[:]).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	return s.IdentityByID(ctx, userID)
}

// Tokens lists a user's personal access tokens.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, kind, name, created_at, expires_at, last_used_at, revoked_at
		FROM api_tokens WHERE user_id = $1 AND kind = 'personal' ORDER BY id DESC`, userID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Token])
}

// RevokeToken revokes one of the user's tokens.
func (s *Service) RevokeToken(ctx context.Context, id *Identity, tokenID int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, tokenID, id.UserID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("token %d: %w", tokenID, ErrNotFound)
		}
		return audit(ctx, tx, id.Username, "token.revoke", "user:"+id.Username, map[string]any{"token": tokenID}, "")
	})
}

// RevokeSecret revokes the token with this secret (API logout).
func (s *Service) RevokeSecret(ctx context.Context, secret string) error {
	sum := sha256.Sum256([]byte(secret))
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`, sum[:])
	return err
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// audit appends an event to the shared audit log.
func audit(ctx context.Context, db execer, actor, action, object string, detail map[string]any, addr string) error {
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO audit_events (actor, action, object, detail, client_addr) VALUES ($1, $2, $3, $4, $5)`,
		actor, action, object, d, addr)
	return err
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
