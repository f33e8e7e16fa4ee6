package wiki

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AnyChange is the payload a subscriber hears after every (re)connect of
// the Listener: notifications may have been missed while it was not
// listening, so anything may have changed.
const AnyChange = ""

// ListenerApp is the application_name of the LISTEN connection, so
// operators (and tests) can find it in pg_stat_activity.
const ListenerApp = "hansewiki listen"

const connectTimeout = 10 * time.Second

// Handler reacts to one notification on a channel. An error makes the
// Listener reconnect, and so hear AnyChange again, rather than lose it.
type Handler func(ctx context.Context, payload string) error

// Listener is the one LISTEN connection of a process. Every component
// that follows changes made by other instances (page cache, policy,
// search and mail workers) subscribes to its channel here; the Listener
// fans each notification out to that channel's subscribers. When the
// connection drops (a PostgreSQL restart, a failover, a terminated
// backend) it reconnects with capped exponential backoff, reports not
// ready meanwhile, and after every connect tells each subscriber
// AnyChange, so nothing missed in between stays stale.
type Listener struct {
	connConfig *pgx.ConnConfig
	log        *slog.Logger

	// MinBackoff and MaxBackoff bound the wait between reconnects
	// (defaults 100 ms and 10 s). PingEvery is how long the connection may
	// stay quiet before it is checked, so a silently lost one is noticed
	// (default 30 s). Set them before Run.
	MinBackoff, MaxBackoff, PingEvery time.Duration

	mu       sync.Mutex
	subs     map[string][]Handler
	channels []string // in subscription order
	running  bool

	ready     atomic.Bool
	firstOnce sync.Once
	first     chan struct{}
}

// NewListener prepares a listener on the database of pool. It opens its own
// connection, outside the pool, when Run starts.
func NewListener(pool *pgxpool.Pool, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerApp
	return &Listener{connConfig: cfg, log: log, subs: map[string][]Handler{}, first: make(chan struct{}),
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, PingEvery: 30 * time.Second}
}

// Subscribe adds fn to the subscribers of channel. Subscriptions are made
// while wiring the process, before Run.
func (l *Listener) Subscribe(channel string, fn Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		panic("wiki: Listener.Subscribe after Run")
	}
	if _, ok := l.subs[channel]; !ok {
		l.channels = append(l.channels, channel)
	}
	l.subs[channel] = append(l.subs[channel], fn)
}

// Ready is nil while the listener is connected and its subscribers are in
// step, and says why not otherwise.
func (l *Listener) Ready() error {
	if l.ready.Load() {
		return nil
	}
	return errors.New("the change listener is not connected to PostgreSQL")
}

// Connected is closed once the first connection listens and every
// subscriber has heard AnyChange.
func (l *Listener) Connected() <-chan struct{} { return l.first }

// Run listens until ctx ends, reconnecting whenever the connection is lost.
// It runs once per Listener.
func (l *Listener) Run(ctx context.Context) error {
	l.mu.Lock()
	if l.running {
		l.mu.Unlock()
		return errors.New("wiki: Listener.Run called twice")
	}
	l.running = true
	l.mu.Unlock()

	backoff := l.MinBackoff
	for {
		err := l.session(ctx, &backoff)
		l.ready.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		l.log.Warn("change listener lost its connection; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, l.MaxBackoff)
	}
}

// session connects, listens on every channel, resynchronises the
// subscribers and then delivers notifications until the connection fails.
func (l *Listener) session(ctx context.Context, backoff *time.Duration) error {
	// An unreachable host must not hold the loop until the kernel gives up.
	connectCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := pgx.ConnectConfig(connectCtx, l.connConfig)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	for _, ch := range l.channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	// Listening first, then resynchronising: a change made after this
	// point sends a notification, one made before is covered here.
	for _, ch := range l.channels {
		if err := l.deliver(ctx, ch, AnyChange); err != nil {
			return err
		}
	}
	l.ready.Store(true)
	select {
	case <-l.first:
		l.log.Info("change listener reconnected; subscribers resynchronised")
	default:
		l.firstOnce.Do(func() { close(l.first) })
	}
	*backoff = l.MinBackoff
	for {
		wait, cancel := context.WithTimeout(ctx, l.PingEvery)
		n, err := conn.WaitForNotification(wait)
		quiet := errors.Is(wait.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && quiet:
			// Quiet for a while: make sure the connection is still there.
			pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return fmt.Errorf("checking the listen connection: %w", err)
			}
		case err != nil:
			return err
		default:
			if err := l.deliver(ctx, n.Channel, n.Payload); err != nil {
				return err
			}
		}
	}
}

// deliver calls channel's subscribers in turn; the first error (or panic)
// ends the connection, so everyone hears AnyChange after the reconnect.
func (l *Listener) deliver(ctx context.Context, channel, payload string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			l.log.Error("change subscriber panicked", "channel", channel, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s subscriber panicked: %v", channel, p)
		}
	}()
	for _, fn := range l.subs[channel] {
		if err := fn(ctx, payload); err != nil {
			return fmt.Errorf("%s subscriber: %w", channel, err)
		}
	}
	return nil
}
