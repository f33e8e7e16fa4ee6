package views

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// metrics is a small Prometheus text exposition: request counts and
// latency histograms by route and status class, cache hits, Go runtime.
type metrics struct {
	mu          sync.RWMutex
	routes      map[string]*routeMetrics
	cacheHits   atomic.Int64
	cacheMisses atomic.Int64
	// gauges registered by other components (e.g. the search outbox lag).
	gauges map[string]func() float64
}

var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type routeMetrics struct {
	byClass [6]atomic.Int64 // index: status/100
	buckets []atomic.Int64
	sumNano atomic.Int64
	count   atomic.Int64
}

func newMetrics() *metrics {
	return &metrics{routes: map[string]*routeMetrics{}, gauges: map[string]func() float64{}}
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.mu.RLock()
	rm := m.routes[route]
	m.mu.RUnlock()
	if rm == nil {
		m.mu.Lock()
		if rm = m.routes[route]; rm == nil {
			rm = &routeMetrics{buckets: make([]atomic.Int64, len(latencyBuckets))}
			m.routes[route] = rm
		}
		m.mu.Unlock()
	}
	if c := status / 100; c >= 1 && c <= 5 {
		rm.byClass[c].Add(1)
	}
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			rm.buckets[i].Add(1)
		}
	}
	rm.sumNano.Add(int64(d))
	rm.count.Add(1)
}

// Gauge registers a value read at every scrape.
func (m *metrics) Gauge(name string, fn func() float64) {
	m.mu.Lock()
	m.gauges[name] = fn
	m.mu.Unlock()
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
}

func (m *metrics) write(w io.Writer) {
	m.mu.RLock()
	names := make([]string, 0, len(m.routes))
	for n := range m.routes {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "# HELP hansewiki_http_requests_total HTTP requests by route and status class.")
	fmt.Fprintln(w, "# TYPE hansewiki_http_requests_total counter")
	for _, n := range names {
		for c := 1; c <= 5; c++ {
			if v := m.routes[n].byClass[c].Load(); v > 0 {
				fmt.Fprintf(w, "hansewiki_http_requests_total{route=%q,code=\"%dxx\"} %d\n", n, c, v)
			}
		}
	}
	fmt.Fprintln(w, "# HELP hansewiki_http_request_duration_seconds HTTP request latency by route.")
	fmt.Fprintln(w, "# TYPE hansewiki_http_request_duration_seconds histogram")
	for _, n := range names {
		rm := m.routes[n]
		for i, b := range latencyBuckets {
			fmt.Fprintf(w, "hansewiki_http_request_duration_seconds_bucket{route=%q,le=\"%g\"} %d\n", n, b, rm.buckets[i].Load())
		}
		fmt.Fprintf(w, "hansewiki_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", n, rm.count.Load())
		fmt.Fprintf(w, "hansewiki_http_request_duration_seconds_sum{route=%q} %g\n", n, time.Duration(rm.sumNano.Load()).Seconds())
		fmt.Fprintf(w, "hansewiki_http_request_duration_seconds_count{route=%q} %d\n", n, rm.count.Load())
	}
	gauges := make([]string, 0, len(m.gauges))
	for n := range m.gauges {
		gauges = append(gauges, n)
	}
	sort.Strings(gauges)
	for _, n := range gauges {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %g\n", n, n, m.gauges[n]())
	}
	m.mu.RUnlock()
	fmt.Fprintln(w, "# TYPE hansewiki_page_cache_hits_total counter")
	fmt.Fprintf(w, "hansewiki_page_cache_hits_total %d\n", m.cacheHits.Load())
	fmt.Fprintln(w, "# TYPE hansewiki_page_cache_misses_total counter")
	fmt.Fprintf(w, "hansewiki_page_cache_misses_total %d\n", m.cacheMisses.Load())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintln(w, "# TYPE go_goroutines gauge")
	fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintln(w, "# TYPE go_memstats_heap_alloc_bytes gauge")
	fmt.Fprintf(w, "go_memstats_heap_alloc_bytes %d\n", ms.HeapAlloc)
}
