package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Attempt is one sign-in with a user name and password.
type Attempt struct {
	Username, Password string
	// Addr is the client's address, for throttling and the audit log.
	Addr string
	// Devices are the known-device tokens the browser presented (its
	// device cookie); tokens of other users are ignored.
	Devices []string
	// Remember asks for a device token to keep (a browser); clients that
	// keep no cookie leave it unset, so they cannot push the user's
	// browsers out of the account's list.
	Remember bool
}

// SignIn is a successful sign-in.
type SignIn struct {
	Identity *Identity
	// Device is a new known-device token for this browser and user (when
	// the attempt asked to be remembered). It replaces Replaced, the
	// presented token that proved the browser known: tokens change at
	// every sign-in, so a copied cookie is worth little.
	Device, Replaced string
}

// Known devices: how long a browser stays known without signing in again,
// and how many browsers one account keeps.
const (
	DeviceLifetime   = 365 * 24 * time.Hour
	devicesPerUser   = 10
	DevicesPerCookie = 5      // tokens a device cookie holds (accounts signed in with one browser)
	deviceTokenLen   = 4 + 43 // "hwd_" + 32 random bytes
)

// Login checks a user name and password. Every attempt is charged to the
// throttle before the password is checked. A browser that signed in as this
// user before (a known device, OWASP's "device cookie") is charged to its own
// counter only; any other attempt to the account's and the address's. So
// failures caused elsewhere, by someone who only knows the user name or
// shares the user's address, never block a browser the user signed in with.
// Unknown users, wrong passwords and disabled accounts all get
// ErrBadCredentials after the same amount of work.
func (s *Service) Login(ctx context.Context, a Attempt) (*SignIn, error) {
	username := NormalizeUsername(a.Username)
	if len(username) > 64 || len(a.Password) > MaxPasswordLen {
		return nil, ErrBadCredentials
	}
	var userID, version int64
	var hash string
	var disabled bool
	err := s.pool.QueryRow(ctx, `SELECT id, password_hash, disabled, credentials_version FROM users WHERE username = $1 AND id <> 1`, username).
		Scan(&userID, &hash, &disabled, &version)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	// Asked for unknown names too (userID 0 matches nothing), so the time
	// taken does not tell which names exist.
	device, used, err := s.knownDevice(ctx, userID, a.Devices)
	if err != nil {
		return nil, err
	}
	keys := []throttleKey{accountKey(username), addressKey(a.Addr)}
	if device != 0 {
		keys = []throttleKey{deviceKey(device)}
	}
	attempt, err := s.reserve(ctx, keys...)
	if err != nil {
		return nil, err
	}
	if !found || hash == "" {
		hash = s.dummyHash
	}
	ok, verr := s.hasher.Verify(ctx, hash, a.Password)
	if verr != nil && hash != s.dummyHash && ctx.Err() == nil {
		s.log.Error("verifying a password hash", "user", username, "err", verr)
	}
	if !ok || verr != nil || disabled || hash == s.dummyHash {
		// The reservation stays: it is the record of this failure.
		object, detail := "user:"+username, map[string]any(nil)
		if !ValidUsername(username) {
			// No account has this name; keep it out of the object, which
			// scopes who sees the event.
			object, detail = "user:", map[string]any{"username": username}
		}
		if err := audit(context.WithoutCancel(ctx), s.pool, "anonymous", "login.failed", object, detail, a.Addr); err != nil {
			s.log.Error("recording a failed login", "err", err)
		}
		return nil, ErrBadCredentials
	}
	in := &SignIn{}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.release(ctx, tx, attempt); err != nil {
			return err
		}
		if a.Remember {
			if device != 0 {
				if _, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE id = $1`, device); err != nil {
					return err
				}
				in.Replaced = used
			}
			if in.Device, err = newDevice(ctx, tx, userID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, username, "login", "user:"+username, nil, a.Addr)
	})
	if err != nil {
		return nil, err
	}
	if in.Identity, err = s.IdentityByID(ctx, userID); errors.Is(err, ErrUnauthenticated) {
		return nil, ErrBadCredentials // disabled meanwhile
	} else if err != nil {
		return nil, err
	}
	// The version whose password was checked: if the password changed
	// meanwhile, this sign-in ends with the other sessions.
	in.Identity.CredentialsVersion = version
	return in, nil
}

// knownDevice finds the presented token that marks this browser as having
// signed in as userID before.
func (s *Service) knownDevice(ctx context.Context, userID int64, tokens []string) (int64, string, error) {
	byHash := map[string]string{}
	var hashes [][]byte
	for _, t := range tokens[:min(len(tokens), DevicesPerCookie)] {
		if !strings.HasPrefix(t, "hwd_") || len(t) != deviceTokenLen {
			continue
		}
		sum := sha256.Sum256([]byte(t))
		byHash[string(sum[:])] = t
		hashes = append(hashes, sum[:])
	}
	if len(hashes) == 0 {
		return 0, "", nil
	}
	var id int64
	var hash []byte
	err := s.pool.QueryRow(ctx, `SELECT id, token_hash FROM known_devices
		WHERE user_id = $1 AND token_hash = ANY($2) AND expires_at > now() ORDER BY id DESC LIMIT 1`, userID, hashes).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	return id, byHash[string(hash)], nil
}

// newDevice remembers a browser that just signed in as userID and returns
// its token; the account keeps its newest devicesPerUser browsers.
func newDevice(ctx context.Context, tx pgx.Tx, userID int64) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := "hwd_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	if _, err := tx.Exec(ctx, `INSERT INTO known_devices (user_id, token_hash, expires_at) VALUES ($1, $2, now() + $3::interval)`,
		userID, sum[:], DeviceLifetime.String()); err != nil {
		return "", err
	}
	_, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE user_id = $1 AND (expires_at <= now() OR id NOT IN (
		SELECT id FROM known_devices WHERE user_id = $1 ORDER BY id DESC LIMIT $2))`, userID, devicesPerUser)
	return token, err
}

// forgetDevices forgets every known browser of userID but those presenting
// one of keep.
func forgetDevices(ctx context.Context, tx pgx.Tx, userID int64, keep []string) error {
	hashes := [][]byte{}
	for _, t := range keep {
		sum := sha256.Sum256([]byte(t))
		hashes = append(hashes, sum[:])
	}
	_, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE user_id = $1 AND NOT (token_hash = ANY($2))`, userID, hashes)
	return err
}
