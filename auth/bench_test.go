package auth_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
)

// BenchmarkCan: one permission check with 6 cities and 1,000 users'
// policies loaded. Target: under 10 µs.
func BenchmarkCan(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.Pool(b)
	cities := []string{"luebeck", "neubrandenburg", "rostock", "schwerin", "stralsund", "wismar"}
	_, err := pool.Exec(ctx, `
		INSERT INTO users (username) SELECT 'user' || i FROM generate_series(1, 1000) i;
		INSERT INTO casbin_rules (ptype, v0, v1, v2)
		SELECT 'g', 'user' || i, (ARRAY['author','reviewer','admin'])[1 + i % 3],
			(ARRAY['luebeck','neubrandenburg','rostock','schwerin','stralsund','wismar'])[1 + i % 6]
		FROM generate_series(1, 1000) i;
		INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', 'user7', 'admin', '*');`)
	if err != nil {
		b.Fatal(err)
	}
	s, err := auth.NewService(ctx, pool, auth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var ids []*auth.Identity
	for _, n := range []int{2, 4, 5, 7, 500, 999} {
		var uid int64
		pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, fmt.Sprintf("user%d", n)).Scan(&uid)
		id, err := s.IdentityByID(ctx, uid)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	actions := []auth.Action{auth.CreateArticle, auth.ReviewChange, auth.ManageCity, auth.ProposeChange, auth.ManageNetwork}
	b.ReportAllocs()
	b.ResetTimer()
	allowed := 0
	for i := range b.N {
		if s.Can(ids[i%len(ids)], actions[i%len(actions)], cities[i%len(cities)]) {
			allowed++
		}
	}
	if b.N >= 100 && allowed == 0 {
		b.Fatal("no check was allowed: the benchmark measures nothing real")
	}
}

// BenchmarkLogin50Concurrent: 50 clients log in at once, over and over.
// Reports logins per second and the peak heap growth, which the hashing
// limit (4 concurrent argon2id runs × 19 MiB) must bound rather than 50 ×
// 19 MiB.
func BenchmarkLogin50Concurrent(b *testing.B) {
	ctx := context.Background()
	s := newService(b)
	for i := range 50 {
		if _, err := s.CreateUser(ctx, auth.NewUser{Username: fmt.Sprintf("nutzer%d", i), Password: password}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	s.Throttle.PerAccount, s.Throttle.PerAddress = 1<<30, 1<<30
	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	var done atomic.Int64
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; n < b.N*50; n += 50 {
				if _, err := s.Login(ctx, auth.Attempt{Username: fmt.Sprintf("nutzer%d", i), Password: password, Addr: fmt.Sprintf("10.0.0.%d", i)}); err != nil {
					failed.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	if failed.Load() > 0 {
		b.Fatalf("%d logins failed", failed.Load())
	}
	b.ReportMetric(float64(done.Load())/elapsed.Seconds(), "logins/s")
	b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak_heap_growth_MiB")
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
