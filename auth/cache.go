package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Notification channels of the account and session caches. Triggers send
// them for every write (migration 0011), so no code path can forget to.
const (
	// AccountChannel names a user whose account, roles or tokens changed
	// (payload: the user's id), or '' for everyone.
	AccountChannel = "hansewiki_account"
	// SessionChannel names a session that was written or ended (payload:
	// SessionKey of its token).
	SessionChannel = "hansewiki_session"
)

type cachedReadsKey struct{}

// WithCachedReads marks a request that only reads (GET, HEAD): its
// session, identity and token may come from this process's caches. A
// request that writes always reads them from PostgreSQL, so what it decides
// on (a CSRF token, a role) is never a cached copy.
func WithCachedReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, cachedReadsKey{}, true)
}

// CachedReads reports whether the request only reads (WithCachedReads).
func CachedReads(ctx context.Context) bool {
	ok, _ := ctx.Value(cachedReadsKey{}).(bool)
	return ok
}

// accountCache keeps identities and bearer tokens. Every entry is dropped
// when its user's account changes anywhere (AccountChanged); gen stops a
// read that began before a drop from storing what it read afterwards.
type accountCache struct {
	mu     sync.Mutex
	gen    uint64
	ids    map[int64]*Identity
	tokens map[[32]byte]*tokenEntry
}

// tokenEntry is a bearer token as its last read found it.
type tokenEntry struct {
	tokenID, userID int64
	expires         time.Time // zero: never
	// used is when the token's last use was recorded, to the minute.
	used time.Time
}

// maxCachedAccounts bounds each map; when full it starts over, which costs
// one read per active account.
const maxCachedAccounts = 100_000

func newAccountCache() *accountCache {
	return &accountCache{ids: map[int64]*Identity{}, tokens: map[[32]byte]*tokenEntry{}}
}

func (c *accountCache) identity(userID int64) (*Identity, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[userID], c.gen
}

func (c *accountCache) putIdentity(gen uint64, id *Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.ids) >= maxCachedAccounts {
		clear(c.ids)
	}
	c.ids[id.UserID] = id
}

func (c *accountCache) token(sum [32]byte) (tokenEntry, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tokens[sum]; ok {
		return *e, true, c.gen
	}
	return tokenEntry{}, false, c.gen
}

func (c *accountCache) putToken(gen uint64, sum [32]byte, e tokenEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.tokens) >= maxCachedAccounts {
		clear(c.tokens)
	}
	c.tokens[sum] = &e
}

// forget drops the entries of one user, or of everyone for userID 0.
func (c *accountCache) forget(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if userID == 0 {
		clear(c.ids)
		clear(c.tokens)
		return
	}
	delete(c.ids, userID)
	for k, e := range c.tokens {
		if e.userID == userID {
			delete(c.tokens, k)
		}
	}
}

// AccountChanged is the AccountChannel's subscriber: it drops the cached
// identity and tokens of the user in payload, or of everyone for ” (also
// after the listener reconnected).
func (s *Service) AccountChanged(payload string) {
	id, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		id = 0
	}
	s.cache.forget(id)
}

// SessionKey names a session in SessionChannel's notifications: a hash of
// its token, which is a secret (the trigger computes the same).
func SessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sessionStore keeps sessions in PostgreSQL (the sessions table) and, for
// read requests, in memory. Writes go to PostgreSQL; the table's trigger
// tells every instance to drop the session (SessionChanged). Unlike
// pgxstore it takes the request's context, so a session read ends with its
// request.
type sessionStore struct {
	pool    *pgxpool.Pool
	mu      sync.Mutex
	gen     uint64
	entries map[string]sessionEntry // by SessionKey
}

type sessionEntry struct {
	token    string
	data     []byte
	deadline time.Time
}

func newSessionStore(pool *pgxpool.Pool) *sessionStore {
	return &sessionStore{pool: pool, entries: map[string]sessionEntry{}}
}

func (c *sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	key := SessionKey(token)
	c.mu.Lock()
	e, ok := c.entries[key]
	gen := c.gen
	c.mu.Unlock()
	if ok && CachedReads(ctx) && e.token == token && time.Now().Before(e.deadline) {
		return e.data, true, nil
	}
	var b []byte
	err := c.pool.QueryRow(ctx, `SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry`, token).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	deadline, _, err := (scs.GobCodec{}).Decode(b)
	if err != nil {
		return b, true, nil // scs reports the bad data itself
	}
	c.mu.Lock()
	if gen == c.gen {
		if len(c.entries) >= maxCachedAccounts {
			clear(c.entries)
		}
		c.entries[key] = sessionEntry{token: token, data: b, deadline: deadline}
	}
	c.mu.Unlock()
	return b, true, nil
}

// CommitCtx and DeleteCtx drop the local copy before and after the write:
// a read racing the write may not store what it read before it.
func (c *sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	key := SessionKey(token)
	c.drop(key)
	defer c.drop(key)
	_, err := c.pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`, token, b, expiry)
	return err
}

func (c *sessionStore) DeleteCtx(ctx context.Context, token string) error {
	key := SessionKey(token)
	c.drop(key)
	defer c.drop(key)
	_, err := c.pool.Exec(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

// The context-free forms are part of scs.Store; scs calls the Ctx ones.
func (c *sessionStore) Find(token string) ([]byte, bool, error) {
	return c.FindCtx(context.Background(), token)
}

func (c *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return c.CommitCtx(context.Background(), token, b, expiry)
}

func (c *sessionStore) Delete(token string) error {
	return c.DeleteCtx(context.Background(), token)
}

// drop forgets one session (key), or every session for AnyChange (”).
func (c *sessionStore) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if key == "" {
		clear(c.entries)
		return
	}
	delete(c.entries, key)
}

// SessionChanged is the SessionChannel's subscriber: it drops the session
// in payload, or every session for ” (after the listener reconnected).
func (s *Sessions) SessionChanged(payload string) { s.store.drop(payload) }

// decodedCodec decodes sessions with scs's gob codec once per distinct
// encoding: gob compiles the types of every stream it reads, which made
// decoding the largest cost of a signed-in page. The cache is keyed by the
// encoded bytes themselves, so it never needs invalidating; scs gets its
// own copy of the values, which it may change.
type decodedCodec struct {
	scs.GobCodec
	mu sync.Mutex
	m  map[string]decodedSession
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any
}

func (c *decodedCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.Lock()
	d, ok := c.m[string(b)]
	c.mu.Unlock()
	if !ok {
		deadline, values, err := c.GobCodec.Decode(b)
		if err != nil {
			return deadline, values, err
		}
		d = decodedSession{deadline: deadline, values: values}
		c.mu.Lock()
		if len(c.m) >= maxCachedAccounts {
			clear(c.m)
		}
		c.m[string(b)] = d
		c.mu.Unlock()
	}
	return d.deadline, maps.Clone(d.values), nil
}
