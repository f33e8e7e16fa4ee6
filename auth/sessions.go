package auth

import (
	"net/http"
	"time"

	"github.com/alexedwards/scs/pgxstore"
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
)

// Sessions are server-side sessions in PostgreSQL behind an HttpOnly,
// SameSite=Lax cookie that is Secure when the site is served over https.
type Sessions struct {
	*scs.SessionManager
	pool *pgxpool.Pool
}

// NewSessions creates the session manager. It starts nothing in the
// background; serve runs RunCleanup.
func NewSessions(pool *pgxpool.Pool, secure bool) *Sessions {
	// pgxstore's own cleanup goroutine logs through the standard logger,
	// takes no context and cannot be joined on shutdown: 0 turns it off.
	store := pgxstore.NewWithCleanupInterval(pool, 0)
	m := scs.New()
	m.Store = store
	m.IdleTimeout = SessionIdleTimeout
	m.Lifetime = SessionLifetime
	m.Cookie.Name = "hansewiki_session"
	m.Cookie.HttpOnly = true
	m.Cookie.SameSite = http.SameSiteLaxMode
	m.Cookie.Secure = secure
	m.Cookie.Path = "/"
	return &Sessions{SessionManager: m, pool: pool}
}
