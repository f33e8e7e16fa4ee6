package main

import "path/filepath"

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
