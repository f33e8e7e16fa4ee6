package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestConfigRefusesBadValuesByName(t *testing.T) {
	for name, value := range map[string]string{
		"HANSEWIKI_LOG_LEVEL":             "verbose",
		"HANSEWIKI_LOG_FORMAT":            "xml",
		"HANSEWIKI_TRUSTED_PROXIES":       "10.0.0.0/8, proxy.example",
		"HANSEWIKI_WEBHOOK_ALLOW_PRIVATE": "maybe",
	} {
		_, err := ConfigFromEnv(env(name, value))
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), strings.TrimPrefix(value, "10.0.0.0/8, ")) {
			t.Errorf("%s=%s: err %v, want one naming the variable and the value", name, value, err)
		}
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"migrate"}, nil, &out, &out, env("HANSEWIKI_LOG_LEVEL", "loud"))
	if err == nil || !strings.Contains(err.Error(), "HANSEWIKI_LOG_LEVEL") {
		t.Errorf("a command with a bad log level: %v", err)
	}
}

func TestConfigLogLevelAndFormat(t *testing.T) {
	cfg, err := ConfigFromEnv(env("HANSEWIKI_LOG_LEVEL", "WARN", "HANSEWIKI_LOG_FORMAT", "json",
		"HANSEWIKI_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7", "HANSEWIKI_METRICS_TOKEN", "t0ken"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogLevel != slog.LevelWarn || len(cfg.TrustedProxies) != 2 || cfg.MetricsToken != "t0ken" || !cfg.AccessLog {
		t.Fatalf("config %+v", cfg)
	}
	var buf bytes.Buffer
	log := cfg.Logger(&buf)
	log.Info("not shown")
	log.Warn("shown", "n", 1)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "shown" || line["level"] != "WARN" {
		t.Fatalf("log output %q: want one JSON line at WARN (%v)", buf.String(), err)
	}
	cfg, err = ConfigFromEnv(env())
	if err != nil || cfg.LogLevel != slog.LevelInfo || cfg.LogFormat != "text" || cfg.TrustedProxies != nil {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
}

func TestConfigWebhookAllowPrivate(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "false": false, "1": true} {
		cfg, err := ConfigFromEnv(env("HANSEWIKI_WEBHOOK_ALLOW_PRIVATE", v))
		if err != nil || cfg.WebhookAllowPrivate != want {
			t.Errorf("%q: %v, %v", v, cfg.WebhookAllowPrivate, err)
		}
	}
}
