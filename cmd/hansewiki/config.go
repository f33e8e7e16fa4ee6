package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"hansewiki/views"
)

// Config is read once from the environment and passed down.
type Config struct {
	DatabaseURL string // empty: a private cluster under DataDir
	Addr        string
	BaseURL     string
	DataDir     string
	MeiliURL    string
	MeiliAPIKey string
	SMTPURL     string
	// License and OpenDataContributor describe the open data (see
	// views.Options).
	License             string
	OpenDataContributor string
	// MaxUpload bounds one uploaded file in bytes (HANSEWIKI_MAX_UPLOAD:
	// bytes, or with a unit KiB, MiB, GiB); 0 is the default of 20 MiB.
	MaxUpload int64

	LogLevel  slog.Level
	LogFormat string // "text" or "json"
	// AccessLog logs a line per request; on for serve.
	AccessLog bool
	// MetricsToken, when set, guards /metrics (Authorization: Bearer).
	MetricsToken string
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// OpenID Connect sign-in (all three of issuer, client ID and secret).
	OIDCIssuer, OIDCClientID, OIDCClientSecret string
	OIDCRoleMap, OIDCGroupsClaim               string
	// WebhookAllowPrivate (HANSEWIKI_WEBHOOK_ALLOW_PRIVATE=true) lets
	// webhooks use http and reach private, loopback and link-local
	// addresses: for an intranet endpoint or a test.
	WebhookAllowPrivate bool
}

// ConfigFromEnv reads the variables the README documents; a value it
// cannot use is an error that names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:  getenv("DATABASE_URL"),
		Addr:         getenv("HANSEWIKI_ADDR"),
		BaseURL:      getenv("HANSEWIKI_BASE_URL"),
		DataDir:      getenv("HANSEWIKI_DATA_DIR"),
		MeiliURL:     getenv("MEILI_URL"),
		MeiliAPIKey:  getenv("MEILI_API_KEY"),
		SMTPURL:      getenv("SMTP_URL"),
		MetricsToken: getenv("HANSEWIKI_METRICS_TOKEN"),
		AccessLog:    true,

		License:             getenv("HANSEWIKI_LICENSE"),
		OpenDataContributor: getenv("HANSEWIKI_OPENDATA_CONTRIBUTOR"),
		OIDCIssuer:          getenv("OIDC_ISSUER"),
		OIDCClientID:        getenv("OIDC_CLIENT_ID"),
		OIDCClientSecret:    getenv("OIDC_CLIENT_SECRET"),
		OIDCRoleMap:         getenv("OIDC_ROLE_MAP"),
		OIDCGroupsClaim:     getenv("OIDC_GROUPS_CLAIM"),
	}
	c.MaxUpload = parseSize(getenv("HANSEWIKI_MAX_UPLOAD"))
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("HANSEWIKI_LOG_LEVEL"))); v {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, fmt.Errorf("HANSEWIKI_LOG_LEVEL=%q: want debug, info, warn or error", v)
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("HANSEWIKI_LOG_FORMAT"))); v {
	case "", "text":
		c.LogFormat = "text"
	case "json":
		c.LogFormat = "json"
	default:
		return c, fmt.Errorf("HANSEWIKI_LOG_FORMAT=%q: want text or json", v)
	}
	var err error
	if v := strings.TrimSpace(getenv("HANSEWIKI_WEBHOOK_ALLOW_PRIVATE")); v != "" {
		if c.WebhookAllowPrivate, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("HANSEWIKI_WEBHOOK_ALLOW_PRIVATE=%q: want true or false", v)
		}
	}
	if c.TrustedProxies, err = views.ParseTrustedProxies(getenv("HANSEWIKI_TRUSTED_PROXIES")); err != nil {
		return c, fmt.Errorf("HANSEWIKI_TRUSTED_PROXIES: %w", err)
	}
	return c, nil
}

// Logger writes the configured level and format to w.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseSize reads "20971520", "20MiB", "20M", "512KiB"; anything else is 0
// (the default).
func parseSize(v string) int64 {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n * mult
}
