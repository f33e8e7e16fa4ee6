package main

import (
	"path/filepath"
	"strconv"
	"strings"
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
}

// ConfigFromEnv reads the variables the README documents.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		Addr:        getenv("HANSEWIKI_ADDR"),
		BaseURL:     getenv("HANSEWIKI_BASE_URL"),
		DataDir:     getenv("HANSEWIKI_DATA_DIR"),
		MeiliURL:    getenv("MEILI_URL"),
		MeiliAPIKey: getenv("MEILI_API_KEY"),
		SMTPURL:     getenv("SMTP_URL"),

		License:             getenv("HANSEWIKI_LICENSE"),
		OpenDataContributor: getenv("HANSEWIKI_OPENDATA_CONTRIBUTOR"),
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
	return c
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
