package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
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

	cluster  *pglocal.Cluster
	listener net.Listener
	server   *http.Server
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
	if m.Auth, err = auth.NewService(ctx, m.Pool, auth.Options{Log: m.Log}); err != nil {
		return err
	}
	m.Workflow = workflow.NewService(m.Store, m.Auth, m.Log)
	if m.Search, err = search.Open(ctx, search.Config{Store: m.Store, MeiliURL: m.Config.MeiliURL,
		MeiliKey: m.Config.MeiliAPIKey, Log: m.Log}); err != nil {
		return fmt.Errorf("search: %w", err)
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
		m.Mailer = workflow.NewMailer(m.Pool, mail, m.Log)
	}
	return nil
}

// Listen binds the HTTP address (":0" picks a free port) and builds the
// HTTP surface.
func (m *Main) Listen(ctx context.Context) error {
	m.Sessions = auth.NewSessions(m.Pool, strings.HasPrefix(m.Config.BaseURL, "https://"))
	h, err := views.New(views.Options{Store: m.Store, Auth: m.Auth, Sessions: m.Sessions, Workflow: m.Workflow, Search: m.Search, Log: m.Log,
		BaseURL: m.Config.BaseURL, Ready: func(ctx context.Context) error { return m.Pool.Ping(ctx) }})
	if err != nil {
		return err
	}
	m.Handler = h
	for name, fn := range m.Search.Gauges() {
		h.Metrics().Gauge(name, fn)
	}
	if m.listener, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return err
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

// URL is the base URL of the listening server.
func (m *Main) URL() string {
	if m.listener == nil {
		return ""
	}
	return "http://" + m.listener.Addr().String()
}

// Serve serves HTTP until ctx ends, then shuts down gracefully.
func (m *Main) Serve(ctx context.Context) error {
	bg, cancel := context.WithCancel(ctx)
	defer cancel()
	publications, policies := make(chan struct{}), make(chan struct{})
	go m.Store.ListenPublications(bg, m.Log, func() { close(publications) }, m.Handler.Invalidate)
	go m.Auth.ListenPolicy(bg, func() { close(policies) })
	if m.Mailer != nil {
		go m.Mailer.Run(bg)
	}
	go m.Search.Run(bg)
	for _, ch := range []chan struct{}{publications, policies} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			m.Log.Warn("a change listener is not ready; changes from other instances may arrive late")
		}
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

// Close releases the database and stops a private cluster this process started.
func (m *Main) Close() error {
	if m.Sessions != nil {
		m.Sessions.Close()
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
