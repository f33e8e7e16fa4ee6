package markdown

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adversarial documents: each generator writes about size bytes of one
// construct that a parser might handle in more than linear time or space.
var adversarial = []struct {
	name string
	gen  func(size int) string
}{
	{"footnotes", func(size int) string {
		n := size / 20
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "x[^%d]\n", i)
		}
		b.WriteString("\n")
		for i := range n {
			fmt.Fprintf(&b, "[^%d]: y\n", i)
		}
		return b.String()
	}},
	{"footnotes-one-label", func(size int) string {
		return strings.Repeat("x[^a] ", size/6) + "\n\n[^a]: y\n"
	}},
	{"footnotes-unused", func(size int) string {
		var b strings.Builder
		for i := range size / 12 {
			fmt.Fprintf(&b, "[^%d]: y\n", i)
		}
		return b.String() + strings.Repeat("[^zz] ", 100)
	}},
	{"nested-quotes", func(size int) string {
		return strings.Repeat("> ", size/4) + "x\n" + strings.Repeat("y\n", size/4)
	}},
	{"nested-lists", func(size int) string {
		return strings.Repeat("- ", size/4) + "x\n" + strings.Repeat("y\n", size/4)
	}},
	{"indented-lists", func(size int) string {
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			b.WriteString(strings.Repeat("  ", i%50) + "- x\n")
		}
		return b.String()
	}},
	{"links", func(size int) string { return strings.Repeat("[a](/b \"c\") ", size/12) }},
	{"unclosed-brackets", func(size int) string { return strings.Repeat("[a ", size/3) }},
	{"brackets-then-close", func(size int) string { return strings.Repeat("[", size/2) + strings.Repeat("](x)", size/8) }},
	{"reference-labels", func(size int) string {
		// Each "]" looks its label up as a reference; goldmark's reader
		// then walked all the paragraph's lines after it.
		return strings.Repeat("[a]\n", size/64) + strings.Repeat("a\n", (size-size/16)/2)
	}},
	{"wiki-links", func(size int) string {
		var b strings.Builder
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "[[rostock/seite-%d]] ", i)
		}
		return b.String()
	}},
	{"table-rows", func(size int) string {
		return "| a | b | c |\n|---|---|---|\n" + strings.Repeat("| x | [[y]] | *z* |\n", size/20)
	}},
	{"table-wide-header", func(size int) string {
		k := size / 8
		return strings.Repeat("|a", k) + "|\n" + strings.Repeat("|-", k) + "|\n" + strings.Repeat("x\n", size/4)
	}},
	{"emphasis-runs", func(size int) string { return strings.Repeat("*a **b _c ", size/10) }},
	{"emphasis-closers", func(size int) string { return strings.Repeat("*", size/2) + strings.Repeat("a*", size/4) }},
	{"emphasis-nested", func(size int) string { return strings.Repeat("*", size/2-1) + "a" + strings.Repeat("*", size/2-1) }},
	{"raw-html", func(size int) string { return strings.Repeat("<div><span>", size/11) }},
	{"short-lines", func(size int) string { return strings.Repeat("a\n", size/2) }},
	{"paragraphs", func(size int) string { return strings.Repeat("a\n\n", size/3) }},
	{"headings", func(size int) string { return strings.Repeat("# a\n", size/4) }},
	{"code-lines", func(size int) string { return "```\n" + strings.Repeat("a\n", size/2-2) }},
}

// renderCost renders src once and reports the CPU time the process spent
// (not wall time, which on a shared machine mostly measures the others)
// and the bytes allocated.
func renderCost(t testing.TB, r *Renderer, src []byte) (time.Duration, uint64) {
	t.Helper()
	resolve := func(targets []Link) ([]Target, error) { return make([]Target, len(targets)), nil }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := cpuTime(t)
	if _, err := r.Render(src, "luebeck", resolve); err != nil {
		t.Fatal(err)
	}
	d := cpuTime(t) - start
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc
}

// cpuTime is the user and system time the process has used.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestRenderScalesLinearly renders each adversarial document at n and 8n
// bytes: a linear renderer needs about 8 times the time and memory, a
// quadratic one 64 times. It compares ratios (best of three runs), so a
// slow machine does not matter, and allows 4× the linear ratio for the
// noise of a busy one; no time limit is asserted.
func TestRenderScalesLinearly(t *testing.T) {
	const small, factor = 64 << 10, 8
	if testing.Short() {
		t.Skip("renders about 40 MiB of Markdown")
	}
	r := New()
	for _, tc := range adversarial {
		t.Run(tc.name, func(t *testing.T) {
			a, b := []byte(tc.gen(small)), []byte(tc.gen(factor*small))
			var ta, tb []time.Duration
			var ma, mb uint64
			for range 3 {
				d, m := renderCost(t, r, a)
				ta, ma = append(ta, d), m
				d, m = renderCost(t, r, b)
				tb, mb = append(tb, d), m
			}
			timeRatio := float64(slices.Min(tb)) / float64(slices.Min(ta))
			// Below 1 MiB the bytes mostly depend on which pooled buffers
			// the render found (a document the syntax budget turns into
			// text allocates a few hundred KiB); a quadratic one allocates
			// far more than that already at the smaller size.
			memRatio := float64(mb) / float64(max(ma, 1<<20))
			t.Logf("%d→%d bytes: time ×%.1f (%v→%v), memory ×%.1f (%d→%d KiB)",
				len(a), len(b), timeRatio, slices.Min(ta), slices.Min(tb), memRatio, ma>>10, mb>>10)
			if memRatio > 1.5*factor {
				t.Errorf("memory grows ×%.1f for %d× the input: not linear", memRatio, factor)
			}
			if timeRatio > 4*factor {
				t.Errorf("time grows ×%.1f for %d× the input: not linear", timeRatio, factor)
			}
		})
	}
}

// BenchmarkRenderAdversarial renders each adversarial document at the
// 1 MiB body limit. Run with
//
//	go test ./wiki/markdown -run '^$' -bench RenderAdversarial -benchmem
func BenchmarkRenderAdversarial(b *testing.B) {
	r := New()
	resolve := func(targets []Link) ([]Target, error) { return make([]Target, len(targets)), nil }
	for _, tc := range adversarial {
		src := []byte(tc.gen(1 << 20))
		if len(src) > 1<<20 {
			src = src[:1<<20]
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := r.Render(src, "luebeck", resolve); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzRenderScales repeats a fuzzed fragment to about 16 KiB and to 8 times
// that, and fails when rendering the larger document allocates or computes
// far more than 8 times as much: it searches for constructs like the
// adversarial ones above. Run with
//
//	go test ./wiki/markdown -run '^$' -fuzz FuzzRenderScales -fuzztime 5m
func FuzzRenderScales(f *testing.F) {
	for _, tc := range adversarial {
		f.Add(tc.gen(64))
	}
	f.Add("x[^1]\n\n[^1]: y\n")
	f.Add("> - 1. [a](b) *c* [[d]]\n")
	r := New()
	f.Fuzz(func(t *testing.T, fragment string) {
		if testing.Short() || len(fragment) == 0 || len(fragment) > 256 {
			t.Skip()
		}
		small := strings.Repeat(fragment, (16<<10)/len(fragment)+1)
		large := strings.Repeat(fragment, 8*((16<<10)/len(fragment)+1))
		var ts, tl []time.Duration
		var ms, ml uint64
		for range 3 {
			d, m := renderCost(t, r, []byte(small))
			ts, ms = append(ts, d), m
			d, m = renderCost(t, r, []byte(large))
			tl, ml = append(tl, d), m
		}
		// CPU time below a few milliseconds is mostly clock granularity.
		if smin := slices.Min(ts); smin > 2*time.Millisecond {
			if ratio := float64(slices.Min(tl)) / float64(smin); ratio > 40 {
				t.Errorf("8× the input takes ×%.1f the time: %q", ratio, fragment)
			}
		}
		// Below 512 KiB the bytes mostly depend on the pooled buffers a
		// render finds (16 KiB of '"' allocated 105–378 KiB).
		if ratio := float64(ml) / float64(max(ms, 512<<10)); ratio > 16 {
			t.Errorf("8× the input allocates ×%.1f the memory: %q", ratio, fragment)
		}
	})
}
