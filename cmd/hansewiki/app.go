package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/auth"
	"hansewiki/migrations"
	"hansewiki/migrations/pglocal"
	"hansewiki/views"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
	"hansewiki/wiki/search"
	"hansewiki/workflow"
)

// Main wires configuration → database → services → HTTP server. End-to-end
// tests start it on port 0.
type Main struct {
	Config Config
	Log    *slog.Logger
	// SkipMigrate leaves the schema alone; serving still refuses a schema
	// that does not match this binary.
	SkipMigrate bool

	Pool     *pgxpool.Pool
	Store    *wiki.Store
	Auth     *auth.Service
	Sessions *auth.Sessions
	Workflow *workflow.Service
	Mailer   *workflow.Mailer
	Search   *search.Service
	Handler  *views.Server
	// Changes is the process's one LISTEN connection; it tells the page
	// cache, the policy and the search and mail workers about changes made
	// by any instance.
	Changes *wiki.Listener
	// Barrier registers the instance and holds a narrowing approval until
	// every instance has dropped its cached pages.
	Barrier *wiki.Barrier
	// OIDC is the sign-in with an identity provider, when configured.
	OIDC *auth.OIDC
	// roleMap is OIDC_ROLE_MAP, checked at Open.
	roleMap []auth.RoleMapping

	cluster  *pglocal.Cluster
	listener net.Listener
	server   *http.Server

	// background joins the workers Serve starts; stopBackground ends them.
	background     sync.WaitGroup
	stopBackground context.CancelFunc
}

// Open connects to the database (starting the private cluster when no
// DATABASE_URL is set), brings the schema up to date and builds services.
func (m *Main) Open(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.Default()
	}
	dbURL := m.Config.DatabaseURL
	if dbURL == "" {
		m.Log.Info("no DATABASE_URL: using the private PostgreSQL cluster", "dir", filepath.Join(m.Config.DataDir, "postgres"))
		c, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(m.Config.DataDir, "postgres")})
		if err != nil {
			return err
		}
		m.cluster = c
		dbURL = c.URL
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without connect_timeout in the URL a connect to an unreachable
		// server waits for the kernel (minutes), holding requests meanwhile.
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if m.Pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return err
	}
	if err := m.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if !m.SkipMigrate {
		applied, err := migrations.Up(ctx, m.Pool)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			m.Log.Info("migrated database", "versions", applied)
		}
	}
	if err := migrations.Check(ctx, m.Pool); err != nil {
		return err
	}
	m.Store = wiki.NewStore(m.Pool, markdown.New())
	m.Changes = wiki.NewListener(m.Pool, m.Log)
	m.Barrier = wiki.NewBarrier(m.Pool, m.Log)
	if m.Auth, err = auth.NewService(ctx, m.Pool, auth.Options{Log: m.Log}); err != nil {
		return err
	}
	m.Workflow = workflow.NewService(m.Store, m.Auth, m.Log)
	m.Workflow.AllowPrivateWebhooks(m.Config.WebhookAllowPrivate)
	if m.Search, err = search.Open(ctx, search.Config{Store: m.Store, MeiliURL: m.Config.MeiliURL,
		MeiliKey: m.Config.MeiliAPIKey, Log: m.Log}); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := m.checkOIDC(); err != nil {
		return err
	}
	if m.Config.SMTPURL != "" {
		if m.Config.BaseURL == "" {
			return errors.New("SMTP_URL is set but HANSEWIKI_BASE_URL is not: mails need the wiki's public address for their links")
		}
		mail, err := workflow.ParseSMTPURL(m.Config.SMTPURL, m.Config.BaseURL)
		if err != nil {
			return err
		}
		m.Workflow.Mail = mail
		m.Mailer = m.Workflow.Mailer(m.Log)
	}
	return nil
}

// Listen binds the HTTP address (":0" picks a free port) and builds the
// HTTP surface.
func (m *Main) Listen(ctx context.Context) error {
	var err error
	if m.listener, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return err
	}
	baseURL := m.Config.BaseURL
	if baseURL == "" {
		baseURL = listenURL(m.listener.Addr())
		m.Log.Warn("HANSEWIKI_BASE_URL is not set: feeds and links use the listen address; set it to the wiki's public address", "base_url", baseURL)
	}
	m.Sessions = auth.NewSessions(m.Pool, strings.HasPrefix(m.Config.BaseURL, "https://"))
	if m.Config.OIDCIssuer != "" {
		m.OIDC = m.Auth.NewOIDC(auth.OIDCConfig{Issuer: m.Config.OIDCIssuer, ClientID: m.Config.OIDCClientID,
			ClientSecret: m.Config.OIDCClientSecret, RedirectURL: strings.TrimSuffix(baseURL, "/") + "/auth/oidc/callback",
			RoleMap: m.roleMap, GroupsClaim: m.Config.OIDCGroupsClaim})
	}
	h, err := views.New(views.Options{Store: m.Store, Auth: m.Auth, Sessions: m.Sessions, Workflow: m.Workflow, Search: m.Search, Log: m.Log,
		BaseURL: baseURL, Ready: m.ready, Barrier: m.Barrier, License: m.Config.License, OpenDataContributor: m.Config.OpenDataContributor,
		MaxUpload: m.Config.MaxUpload, AccessLog: m.Config.AccessLog, MetricsToken: m.Config.MetricsToken, TrustedProxies: m.Config.TrustedProxies,
		OIDC: m.OIDC})
	if err != nil {
		m.listener.Close()
		return err
	}
	m.Handler = h
	for name, fn := range m.Search.Gauges() {
		h.Metrics().Gauge(name, fn)
	}
	m.server = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	return nil
}

// listenURL is the address absolute URLs use when no base URL is
// configured: the listen address, with "localhost" for all interfaces.
// Never a request's Host header, which any client can forge.
func listenURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://localhost"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// URL is the base URL of the listening server.
func (m *Main) URL() string {
	if m.listener == nil {
		return ""
	}
	return "http://" + m.listener.Addr().String()
}

// ready is /readyz: the database answers and the change listener is
// connected (while it reconnects, other instances' changes do not arrive).
func (m *Main) ready(ctx context.Context) error {
	if err := m.Changes.Ready(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return m.Pool.Ping(ctx)
}

// subscribe wires everything that follows other instances' changes to the
// process's one listener. Each subscriber also hears wiki.AnyChange after
// every reconnect, and treats it as "anything may have changed".
func (m *Main) subscribe() {
	m.Handler.Follow(m.Changes)
	m.Changes.Subscribe(wiki.PublishedChannel, func(context.Context, string) error {
		m.Search.Worker().Wake()
		return nil
	})
	m.Changes.Subscribe(workflow.WebhookChannel, func(context.Context, string) error {
		m.Workflow.WakeWebhooks()
		return nil
	})
	if m.Mailer != nil {
		m.Changes.Subscribe(workflow.MailChannel, func(context.Context, string) error {
			m.Mailer.Wake()
			return nil
		})
	}
}

// Serve serves HTTP until ctx ends, then shuts down gracefully: it lets
// running requests finish, then stops the background workers and waits
// for them.
func (m *Main) Serve(ctx context.Context) error {
	// The workers outlive ctx until the HTTP server has drained, so what
	// the last requests publish or queue is still picked up.
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopBackground = stop
	defer m.waitBackground()
	m.subscribe()
	// Registered before the listener resynchronises, so its first ack counts.
	if err := m.Barrier.Register(ctx); err != nil {
		m.Log.Warn("could not register this instance yet; the heartbeat retries", "err", err)
	}
	m.goBackground(bg, "change listener", func(ctx context.Context) {
		if err := m.Changes.Run(ctx); err != nil {
			m.Log.Error("change listener", "err", err)
		}
	})
	m.goBackground(bg, "instance heartbeat", m.Barrier.Run)
	m.goBackground(bg, "search outbox worker", m.Search.Run)
	if m.Mailer != nil {
		m.goBackground(bg, "mailer", m.Mailer.Run)
	}
	m.goBackground(bg, "webhook deliveries", func(ctx context.Context) {
		m.Workflow.RunWebhooks(ctx, workflow.WebhookPoll)
	})
	m.goBackground(bg, "periodic work", func(ctx context.Context) {
		m.Workflow.RunJobLoop(ctx, workflow.JobInterval, m.Log)
	})
	m.goBackground(bg, "session cleanup", func(ctx context.Context) {
		m.Sessions.RunCleanup(ctx, auth.SessionCleanupInterval, m.Log)
	})
	select {
	case <-m.Changes.Connected():
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		m.Log.Warn("the change listener is not connected yet; changes from other instances arrive once it is, /readyz says not ready until then")
	}
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.listener) }()
	m.Log.Info("serving", "url", m.URL())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.Log.Info("shutting down")
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer done()
	if err := m.server.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// goBackground runs fn until ctx ends. A worker that panics or returns
// early is logged and restarted after a pause that grows up to a minute:
// a background worker never takes the process down.
func (m *Main) goBackground(ctx context.Context, name string, fn func(context.Context)) {
	m.background.Go(func() {
		pause := time.Second
		for {
			start := time.Now()
			m.runWorker(ctx, name, fn)
			if ctx.Err() != nil {
				return
			}
			if time.Since(start) > time.Minute {
				pause = time.Second
			}
			m.Log.Error("background worker stopped; restarting", "worker", name, "in", pause)
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(pause*2, time.Minute)
		}
	})
}

func (m *Main) runWorker(ctx context.Context, name string, fn func(context.Context)) {
	defer func() {
		if p := recover(); p != nil {
			m.Log.Error("background worker panicked", "worker", name, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn(ctx)
}

// waitBackground stops the background workers and waits until they have.
func (m *Main) waitBackground() {
	if m.stopBackground != nil {
		m.stopBackground()
	}
	m.background.Wait()
}

// Close releases the database and stops a private cluster this process started.
func (m *Main) Close() error {
	m.waitBackground()
	if m.listener == nil && m.Barrier != nil {
		// A command (role grant, passwd, import) returns once every running
		// instance heard what it changed.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m.Barrier.Sync(ctx)
		cancel()
	}
	if m.Pool != nil {
		m.Pool.Close()
	}
	if m.cluster != nil {
		if err := m.cluster.Stop(); err != nil {
			return fmt.Errorf("stopping the private PostgreSQL cluster: %w", err)
		}
	}
	return nil
}

// checkOIDC refuses a half OpenID Connect configuration and a role map it
// cannot read, so a typo fails the start instead of a sign-in.
func (m *Main) checkOIDC() error {
	c := m.Config
	set := 0
	for _, v := range []string{c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret} {
		if v != "" {
			set++
		}
	}
	if set == 0 {
		if c.OIDCRoleMap != "" {
			return errors.New("OIDC_ROLE_MAP is set but OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are not")
		}
		return nil
	}
	if set < 3 {
		return errors.New("OpenID Connect needs all of OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
	}
	var err error
	m.roleMap, err = auth.ParseRoleMap(c.OIDCRoleMap)
	return err
}
