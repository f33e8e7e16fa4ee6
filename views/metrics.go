package views

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hansewiki/workflow"
)

// metrics is /metrics: request counts and latencies by route name, status
// class and method, the page cache, the backlogs (read at scrape time), Go
// runtime and process metrics. Each Server has its own registry.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// Kept as plain counters: the page cache's hot path and tests read them.
	cacheHits   atomic.Int64
	cacheMisses atomic.Int64
	handler     http.Handler
	// token, when set, must come as "Authorization: Bearer token".
	token string
	log   *slog.Logger
}

var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// backlogTimeout bounds the queries a scrape runs.
const backlogTimeout = 2 * time.Second

func newMetrics(token string, wf *workflow.Service, log *slog.Logger) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		token:    token,
		log:      log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hansewiki_http_requests_total",
			Help: "HTTP requests by route name, status class and method.",
		}, []string{"route", "code", "method"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hansewiki_http_request_duration_seconds",
			Help:    "HTTP request latency by route name and method.",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hansewiki_page_cache_hits_total",
			Help: "Pages served from the rendered-page cache.",
		}, func() float64 { return float64(m.cacheHits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hansewiki_page_cache_misses_total",
			Help: "Cacheable pages that had to be rendered.",
		}, func() float64 { return float64(m.cacheMisses.Load()) }),
		newBacklogCollector(wf, log),
		newWebhookCollector(wf, log),
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPromLogger{log}})
	return m
}

// observe counts one answered request.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	method = metricMethod(method)
	m.requests.WithLabelValues(route, statusClass(status), method).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// statusClass is "2xx" and so on; 0 (nothing written) is a 200.
func statusClass(status int) string {
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// metricMethod keeps the method label to the methods HTTP defines: a client
// cannot grow the label set.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// Gauge registers a value read at every scrape (the search outbox's, wired
// in cmd).
func (m *metrics) Gauge(name string, fn func() float64) {
	err := m.registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: name + " (read at scrape time)."}, fn))
	if err != nil {
		m.log.Error("registering a gauge", "name", name, "err", err)
	}
}

// ServeHTTP answers a scrape; with a token configured only a scraper that
// sends it.
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every scrape is fresh and no one else's.
	w.Header().Set("Cache-Control", privateNoStore)
	if m.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(m.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("metrics: missing or wrong bearer token\n"))
			return
		}
	}
	m.handler.ServeHTTP(w, r)
}

// isMetricsScrape: the Authorization header of a scrape carries the metrics
// token, not an account's, so identify leaves it alone.
func isMetricsScrape(r *http.Request) bool { return r.URL.Path == "/metrics" }

// backlogCollector reads the review backlog and the mail queue at scrape
// time, within backlogTimeout; a failed read leaves them out of that scrape.
type backlogCollector struct {
	workflow          *workflow.Service
	log               *slog.Logger
	review, mailQueue *prometheus.Desc
	oldest, overdue   *prometheus.Desc
	articlesOverdue   *prometheus.Desc
}

func newBacklogCollector(wf *workflow.Service, log *slog.Logger) *backlogCollector {
	return &backlogCollector{workflow: wf, log: log,
		review: prometheus.NewDesc("hansewiki_review_backlog",
			"Changes waiting for review (in_review), by city.", []string{"city"}, nil),
		oldest: prometheus.NewDesc("hansewiki_review_oldest_seconds",
			"How long the oldest change in review has waited since submission, by city (0 without any).", []string{"city"}, nil),
		overdue: prometheus.NewDesc("hansewiki_review_overdue",
			"Changes in review past their due date (the city's review_days), by city.", []string{"city"}, nil),
		articlesOverdue: prometheus.NewDesc("hansewiki_articles_overdue",
			"Published articles whose freshness check is due (not confirmed within their review interval), by city.", []string{"city"}, nil),
		mailQueue: prometheus.NewDesc("hansewiki_mail_queue_length",
			"E-mails queued and not sent yet.", nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.review
	ch <- c.oldest
	ch <- c.overdue
	ch <- c.articlesOverdue
	ch <- c.mailQueue
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	b, err := c.workflow.Backlog(ctx)
	if err != nil {
		c.log.Warn("metrics: backlog", "err", err)
		return
	}
	for city, n := range b.InReview {
		ch <- prometheus.MustNewConstMetric(c.review, prometheus.GaugeValue, float64(n), city)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, b.OldestSeconds[city], city)
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(b.Overdue[city]), city)
		ch <- prometheus.MustNewConstMetric(c.articlesOverdue, prometheus.GaugeValue, float64(b.ArticlesOverdue[city]), city)
	}
	ch <- prometheus.MustNewConstMetric(c.mailQueue, prometheus.GaugeValue, float64(b.MailQueued))
}

// slogPromLogger passes promhttp's errors to the server's log.
type slogPromLogger struct{ log *slog.Logger }

func (l slogPromLogger) Println(v ...any) {
	l.log.Error("metrics", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}

// routeLabel carries the matched route's name from the route table back to
// observe, which wraps the router and so never sees mux's match.
type routeLabel struct{ name string }

type routeLabelKey struct{}

// named sets the route name for metrics and the access log.
func named(name string, h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if l, ok := r.Context().Value(routeLabelKey{}).(*routeLabel); ok {
			l.name = name
		}
		h.ServeHTTP(w, r)
	}
}
