package auth

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Throttle limits failed sign-ins within Window. Failures are counted per
// account (from browsers not known to it), per known browser (its own
// failures only) and per client address. The account and browser limits
// are hard for the rest of the window; the address limit only slows down:
// beyond PerAddress failures an address gets one attempt every
// Window/PerAddress, so people behind the same address as an attacker are
// delayed, never locked out.
type Throttle struct {
	Window     time.Duration
	PerAccount int
	PerAddress int
}

// throttleLockClass is the first key of the advisory locks that serialize
// reservations of one throttle key across instances.
const throttleLockClass = 7307

// throttleKey is one counter an attempt is charged to.
type throttleKey struct {
	name  string
	limit int
	// slow: beyond the limit, allow one attempt per Window/limit instead
	// of none until the window has passed.
	slow bool
}

func accountKey(username string) throttleKey { return throttleKey{name: "user:" + username} }

func deviceKey(id int64) throttleKey {
	return throttleKey{name: "device:" + strconv.FormatInt(id, 10)}
}

// addressKey charges an IPv6 client per /64: one subscriber usually holds a
// whole /64 and could otherwise step through its addresses.
func addressKey(addr string) throttleKey {
	if a, err := netip.ParseAddr(addr); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			return throttleKey{name: "addr:" + p.String(), slow: true}
		}
		return throttleKey{name: "addr:" + a.String(), slow: true}
	}
	if len(addr) > 100 {
		addr = addr[:100]
	}
	return throttleKey{name: "addr:" + addr, slow: true}
}

// reserve charges one attempt to every key before the password is checked,
// or answers ThrottledError when a key has no attempt left. The check and
// the charge happen under a per-key advisory lock in PostgreSQL, so parallel
// attempts on any number of instances are counted one after another: a
// burst of guesses gets at most the limit verified. The reservation stays
// as the record of a failure; release takes it back after a success.
func (s *Service) reserve(ctx context.Context, keys ...throttleKey) (int64, error) {
	s.prune(ctx)
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b throttleKey) int { // one lock order: no deadlocks
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	var attempt int64
	var wait time.Duration
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, throttleLockClass, k.name); err != nil {
				return err
			}
		}
		for _, k := range keys {
			limit := k.limit
			if limit == 0 {
				limit = s.Throttle.PerAccount
				if k.slow {
					limit = s.Throttle.PerAddress
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE key = $1 AND at <= clock_timestamp() - $2::interval`,
				k.name, s.Throttle.Window.String()); err != nil {
				return err
			}
			var n int
			var oldest, newest *time.Time
			var now time.Time
			if err := tx.QueryRow(ctx, `SELECT count(*), min(at), max(at), clock_timestamp() FROM login_failures WHERE key = $1`, k.name).
				Scan(&n, &oldest, &newest, &now); err != nil {
				return err
			}
			if n < limit {
				continue
			}
			w := oldest.Add(s.Throttle.Window).Sub(now)
			if k.slow {
				w = newest.Add(s.Throttle.Window / time.Duration(limit)).Sub(now)
			}
			wait = max(wait, w)
		}
		if wait > 0 {
			return nil // nothing charged; the transaction only read
		}
		if err := tx.QueryRow(ctx, `SELECT nextval('login_attempts')`).Scan(&attempt); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO login_failures (key, at, attempt) VALUES ($1, clock_timestamp(), $2)`, k.name, attempt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if wait > 0 {
		return 0, &ThrottledError{RetryAfter: max(wait, time.Second)}
	}
	return attempt, nil
}

// pruneEvery is how often an instance removes throttle rows of keys that
// were not tried again (each reservation prunes its own keys).
const pruneEvery = 10 * time.Minute

func (s *Service) prune(ctx context.Context) {
	now := time.Now().UnixNano()
	last := s.pruned.Load()
	if now-last < int64(pruneEvery) || !s.pruned.CompareAndSwap(last, now) {
		return
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE at <= now() - $1::interval`, s.Throttle.Window.String())
	if err == nil {
		_, err = s.pool.Exec(ctx, `DELETE FROM known_devices WHERE expires_at <= now()`)
	}
	if err != nil {
		s.log.Warn("pruning sign-in throttle rows", "err", err)
	}
}

// release takes back the reservation of an attempt that succeeded.
func (s *Service) release(ctx context.Context, q execer, attempt int64) error {
	_, err := q.Exec(ctx, `DELETE FROM login_failures WHERE attempt = $1`, attempt)
	return err
}

// Limit charges one use of a public form (name, e.g. "feedback") to the
// client's address, and answers ThrottledError once limit uses fell within
// the throttle window.
func (s *Service) Limit(ctx context.Context, name, addr string, limit int) error {
	_, err := s.reserve(ctx, throttleKey{name: name + ":" + addressKey(addr).name, limit: limit})
	return err
}
