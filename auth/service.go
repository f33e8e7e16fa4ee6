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
	"strings"
	"sync"
	"sync/atomic"
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
	// pruned is when this instance last removed expired throttle rows.
	pruned atomic.Int64
	// cache keeps identities and bearer tokens for read requests (see
	// WithCachedReads and AccountChanged).
	cache *accountCache
	// skew moves this service's clock, for tests that need time to pass.
	skew atomic.Int64
	// disableHooks run in the transaction that disables an account.
	disableHooks struct {
		sync.Mutex
		list []DisableHook
	}
}

// Skew moves the clock the service decides by (a token's last use) by d;
// tests use it instead of sleeping.
func (s *Service) Skew(d time.Duration) { s.skew.Add(int64(d)) }

func (s *Service) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }

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
	s := &Service{pool: pool, hasher: NewHasher(opts.ConcurrentHashes), enf: enf, log: opts.Log, cache: newAccountCache(),
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

// NewUser is what creating an account needs.
type NewUser struct {
	Username, DisplayName, Email, Password string
}

// CreateUser creates an account.
func (s *Service) CreateUser(ctx context.Context, u NewUser, actor string) (User, error) {
	return s.createUser(ctx, u, actor, nil)
}

// createUser creates an account; then, in the same transaction, runs also
// (an invitation's roles) when it is set.
func (s *Service) createUser(ctx context.Context, u NewUser, actor string, also func(pgx.Tx, User) error) (User, error) {
	u.Username = NormalizeUsername(u.Username)
	if !ValidUsername(u.Username) {
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
		if err := audit(ctx, tx, actor, "user.create", "user:"+u.Username, nil, ""); err != nil {
			return err
		}
		if also != nil {
			return also(tx, out)
		}
		return nil
	})
	return out, err
}

// Users lists every account except the system account.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, username, display_name, email, disabled, created_at
		FROM users WHERE id <> 1 ORDER BY username`)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[User])
}

// User finds an account by name, in any spelling NormalizeUsername accepts.
func (s *Service) User(ctx context.Context, username string) (User, error) {
	username = NormalizeUsername(username)
	rows, _ := s.pool.Query(ctx, `SELECT id, username, display_name, email, disabled, created_at
		FROM users WHERE username = $1 AND id <> 1`, username)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[User])
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	return u, err
}

// IdentityByID loads a signed-in user with their roles; disabled or missing
// accounts are ErrUnauthenticated.
func (s *Service) IdentityByID(ctx context.Context, userID int64) (*Identity, error) {
	cached, gen := s.cache.identity(userID)
	if cached != nil && CachedReads(ctx) {
		return cached, nil
	}
	id := &Identity{}
	var disabled bool
	err := s.pool.QueryRow(ctx, `SELECT id, username, display_name, email, disabled, credentials_version FROM users WHERE id = $1 AND id <> 1`, userID).
		Scan(&id.UserID, &id.Username, &id.DisplayName, &id.Email, &disabled, &id.CredentialsVersion)
	if errors.Is(err, pgx.ErrNoRows) || disabled {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if id.Grants, err = s.grants(ctx, id.Username); err != nil {
		return nil, err
	}
	s.cache.putIdentity(gen, id)
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
// is stored only as a SHA-256 hash. ttl 0 means no expiry. Personal tokens
// outlive password changes and end when revoked; a login token made here
// ends with the account's current credentials (sign-ins use LoginToken).
func (s *Service) CreateToken(ctx context.Context, userID int64, kind, name string, ttl time.Duration, actor string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return "", Token{}, invalid("name", "token.name", "the token name may have at most 100 characters")
	}
	var version *int64
	if kind == TokenLogin {
		version = new(int64)
		if err := s.pool.QueryRow(ctx, `SELECT credentials_version FROM users WHERE id = $1`, userID).Scan(version); err != nil {
			return "", Token{}, err
		}
	}
	return s.createToken(ctx, userID, kind, name, ttl, version, actor)
}

// LoginToken makes the token of an API sign-in for id. It lasts
// LoginTokenLifetime and ends with the credentials it was issued under.
func (s *Service) LoginToken(ctx context.Context, id *Identity) (string, Token, error) {
	return s.createToken(ctx, id.UserID, TokenLogin, "API login", LoginTokenLifetime, &id.CredentialsVersion, id.Username)
}

func (s *Service) createToken(ctx context.Context, userID int64, kind, name string, ttl time.Duration, version *int64, actor string) (string, Token, error) {
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
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, kind, name, token_hash, expires_at, credentials_version)
			VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id, kind, name, created_at, expires_at, last_used_at, revoked_at,
				(SELECT username FROM users WHERE id = $1)`,
			userID, kind, name, sum[:], expires, version).Scan(&tok.ID, &tok.Kind, &tok.Name, &tok.CreatedAt, &tok.ExpiresAt, &tok.LastUsedAt, &tok.RevokedAt, &username)
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
// tokens, tokens of disabled users, and login tokens issued before the
// password last changed are ErrUnauthenticated.
func (s *Service) TokenIdentity(ctx context.Context, secret string) (*Identity, error) {
	if !strings.HasPrefix(secret, "hw_") || len(secret) > 100 {
		return nil, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(secret))
	now := s.now()
	e, ok, gen := s.cache.token(sum)
	if !ok || !CachedReads(ctx) || !e.expires.IsZero() && !now.Before(e.expires) {
		var expires, used *time.Time
		err := s.pool.QueryRow(ctx, `SELECT t.id, t.user_id, t.expires_at, t.last_used_at
			FROM api_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
				AND (t.credentials_version IS NULL OR t.credentials_version = u.credentials_version)`,
			sum[:]).Scan(&e.tokenID, &e.userID, &expires, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrUnauthenticated
		}
		if err != nil {
			return nil, err
		}
		e.expires, e.used = time.Time{}, time.Time{}
		if expires != nil {
			e.expires = *expires
		}
		if used != nil {
			e.used = *used
		}
	}
	// A read request must not write on every call: the last use is
	// recorded at most once per tokenUseResolution.
	if now.Sub(e.used) >= tokenUseResolution {
		if _, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $3
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3::timestamptz - $2::float8 * interval '1 second')`,
			e.tokenID, tokenUseResolution.Seconds(), now); err != nil {
			return nil, err
		}
		e.used = now
	}
	s.cache.putToken(gen, sum, e)
	return s.IdentityByID(ctx, e.userID)
}

// tokenUseResolution is how exact a token's last use is kept.
const tokenUseResolution = time.Minute

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
