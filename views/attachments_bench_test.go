package views

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// textStream yields size bytes of text without holding them: an upload's
// body as a client streams it.
type textStream struct{ left, n int64 }

func (s *textStream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, s.left)
	for i := range p[:n] {
		s.n++
		p[i] = "Zeile mit Text\n"[s.n%15]
	}
	s.left -= n
	return int(n), nil
}

// peakHeap samples the live heap every millisecond while fn runs and
// returns the highest value above the heap before, in bytes.
func peakHeap(fn func()) uint64 {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { rtmetrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	before := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	fn()
	close(done)
	if p := peak.Load(); p > before {
		return p - before
	}
	return 0
}

// discard is a ResponseWriter that keeps nothing of the body.
type discard struct {
	h    http.Header
	code int
	n    int64
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(c int)   { d.code = c }
func (d *discard) Write(b []byte) (int, error) {
	d.n += int64(len(b))
	return len(b), nil
}

// BenchmarkUploadMemory uploads and downloads files of growing size through
// the real handlers and reports the peak heap above the start: it stays
// about the same whatever the size (chunks of wiki.ChunkSize, never the
// whole file). Run: go test ./views -run '^$' -bench UploadMemory -benchtime 2x
func BenchmarkUploadMemory(b *testing.B) {
	s := newTestServer(b)
	s.opts.MaxUpload = 80 << 20
	_, token := apiUser(b, s, "autorin", "author", "luebeck")
	for _, mib := range []int64{1, 8, 32, 64} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			size := mib << 20
			b.SetBytes(size)
			var upPeak, downPeak uint64
			for i := 0; i < b.N; i++ {
				var url string
				upPeak = max(upPeak, peakHeap(func() {
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, uploadRequest(b, token, "luebeck", "gross.txt", &textStream{left: size, n: int64(i)}))
					if rec.Code != 201 {
						b.Fatalf("upload: %d %s", rec.Code, rec.Body)
					}
					url = jsonField(rec.Body.Bytes(), "url")
				}))
				downPeak = max(downPeak, peakHeap(func() {
					req := httptest.NewRequest("GET", url, nil)
					req.Header.Set("Authorization", "Bearer "+token)
					w := &discard{h: http.Header{}}
					s.ServeHTTP(w, req)
					if w.n != size {
						b.Fatalf("download: %d %d bytes", w.code, w.n)
					}
				}))
			}
			b.ReportMetric(float64(upPeak)/(1<<20), "upload-peak-MiB")
			b.ReportMetric(float64(downPeak)/(1<<20), "download-peak-MiB")
		})
	}
}
