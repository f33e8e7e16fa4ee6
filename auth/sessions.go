package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Session timeouts: a session ends after 2 hours without use, and 12 hours
// after sign-in at the latest.
const (
	SessionIdleTimeout = 2 * time.Hour
	SessionLifetime    = 12 * time.Hour
)

// Session keys.
const (
	SessionUserID = "user_id"
	// SessionCredentials holds the credentials version the session was
	// signed in under (see SessionIdentity).
	SessionCredentials = "credentials_version"
	SessionCSRF        = "csrf"
	// SessionSeen is when the session was last used (Unix seconds), kept
	// to a minute: see Active.
	SessionSeen = "seen"
)

// sessionSeenResolution is how exact a session's last use is kept; a read
// request writes the session at most this often.
const sessionSeenResolution = time.Minute

// Sessions are server-side sessions in PostgreSQL behind an HttpOnly,
// SameSite=Lax cookie that is Secure when the site is served over https.
type Sessions struct {
	*scs.SessionManager
	pool  *pgxpool.Pool
	store *sessionStore
}

// NewSessions creates the session manager. It starts nothing in the
// background; serve runs RunCleanup.
func NewSessions(pool *pgxpool.Pool, secure bool) *Sessions {
	store := newSessionStore(pool)
	m := scs.New()
	m.Store = store
	m.Codec = &decodedCodec{m: map[string]decodedSession{}}
	// scs keeps an idle timeout by writing the session on every request;
	// Active keeps it instead, writing at most once a minute.
	m.IdleTimeout = 0
	m.Lifetime = SessionLifetime
	m.Cookie.Name = "hansewiki_session"
	m.Cookie.HttpOnly = true
	m.Cookie.SameSite = http.SameSiteLaxMode
	m.Cookie.Secure = secure
	m.Cookie.Path = "/"
	return &Sessions{SessionManager: m, pool: pool, store: store}
}

// SignIn binds the request's session to id and the credentials version id
// was checked under, with a new session ID (against fixation) and without
// the old CSRF token.
func (s *Sessions) SignIn(ctx context.Context, id *Identity) error {
	if err := s.RenewToken(ctx); err != nil {
		return err
	}
	s.Remove(ctx, SessionCSRF)
	s.Put(ctx, SessionUserID, id.UserID)
	s.Put(ctx, SessionCredentials, id.CredentialsVersion)
	s.Put(ctx, SessionSeen, time.Now().Unix())
	return nil
}

// Active reports whether the session is still within its idle timeout at
// now, and records the use when the last record is a minute old or more,
// so reading pages does not write the session on every request. A session
// without a record (signed in before records were kept) starts one.
func (s *Sessions) Active(ctx context.Context, now time.Time) bool {
	seen := s.GetInt64(ctx, SessionSeen)
	idle := now.Sub(time.Unix(seen, 0))
	if seen != 0 && idle > SessionIdleTimeout {
		return false
	}
	if seen == 0 || idle >= sessionSeenResolution {
		s.Put(ctx, SessionSeen, now.Unix())
	}
	return true
}

// UserOf returns the user ID and credentials version the session was signed
// in with (0, 0 for none); SessionIdentity checks them.
func (s *Sessions) UserOf(ctx context.Context) (userID, version int64) {
	return s.GetInt64(ctx, SessionUserID), s.GetInt64(ctx, SessionCredentials)
}
