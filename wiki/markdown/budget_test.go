package markdown

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// largeArticle is the test article repeated to the 1 MiB body limit: links,
// wiki links, emphasis, tables and headings as a real article has them.
func largeArticle(t testing.TB) []byte {
	src := readBenchDocument(t)
	return bytes.Repeat(src, (1<<20)/len(src))
}

// TestSyntaxBudgetKeepsRealArticles: an article of the body limit is far
// below the budget, so it renders exactly as without it, also when the
// byte-counting shortcut is skipped.
func TestSyntaxBudgetKeepsRealArticles(t *testing.T) {
	big := largeArticle(t)
	// Code, raw HTML and bare links, which the shortcut does not see as
	// rare, repeated well past the budget in bytes but not in syntax.
	code := bytes.Repeat([]byte("Siehe `a_b*c[d]` und <https://www.example.org/a_b> oder info@luebeck.de.\n\n"+
		"```go\nx := m[k] * y_z // <b>\n```\n\n"+
		"    [eingerückt] *code*\n\n"), 2000)
	code = append(code, "- Punkt mit [[Seite]] und **fett**\n"...)
	for _, src := range [][]byte{big, code} {
		l := newSyntaxLimiter(syntaxBudget, codeBudget)
		if out := l.limit(src); !bytes.Equal(out, src) {
			i := 0
			for i < len(out) && out[i] == src[i] {
				i++
			}
			t.Fatalf("a real article changed at byte %d: %q", i, out[max(0, i-40):min(len(out), i+40)])
		}
		if got := limitSyntax(src); !bytes.Equal(got, src) {
			t.Fatal("limitSyntax changed a real article")
		}
	}
}

// TestSyntaxBudgetRendersTheRestAsText: beyond the budget, links are text
// as written, while code keeps its text without escapes.
func TestSyntaxBudgetRendersTheRestAsText(t *testing.T) {
	src := strings.Repeat("[a](/b) ", syntaxBudget+50) +
		"\n\n```\n[x](/y) *z* a_b\n```\n\nund `[c](/d) *e*` [[seite]] *f* <b>g</b>\n\n    [h](/i) *j*\n"
	res := render(t, src)
	if n := strings.Count(res.HTML, `<a href="/b">a</a>`); n != syntaxBudget {
		t.Errorf("%d links rendered, want the budget of %d", n, syntaxBudget)
	}
	for _, want := range []string{
		"[a](/b) [a](/b)",                // the rest is text, as written
		"<code>[x](/y) *z* a_b\n</code>", // fenced code unchanged
		"<code>[c](/d) *e*</code>",       // code span unchanged
		"[[seite]] <em>f</em>",           // brackets are text, emphasis is not over its budget
		"<code>[h](/i) *j*\n</code>",     // indented code unchanged
	} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(res.HTML, `\`) {
		t.Error("an escape shows as a backslash")
	}
}

// TestSyntaxBudgetBoundsHeadings: headings beyond the budget are text.
func TestSyntaxBudgetBoundsHeadings(t *testing.T) {
	res := render(t, strings.Repeat("# h\n", maxHeadings+10)+"x\n===\n")
	if n := strings.Count(res.HTML, "<h1"); n != maxHeadings {
		t.Errorf("%d headings, want the budget of %d", n, maxHeadings)
	}
	if !strings.Contains(res.HTML, "# h\n# h") || !strings.Contains(res.HTML, "x\n===") {
		t.Error("headings beyond the budget do not show as text")
	}
}

// TestSyntaxBudgetJoinsLinesBeyondTheLimit: beyond the budget of lines the
// rest is one line of text, but a code block open at the limit keeps its
// lines.
func TestSyntaxBudgetJoinsLinesBeyondTheLimit(t *testing.T) {
	src := strings.Repeat("a\n", maxLines-3) + "```\ncode\n" + strings.Repeat("x\n", 10) + "```\n- b\n# c\nd\n"
	res := render(t, src)
	for _, want := range []string{
		"<code>code\n" + strings.Repeat("x\n", 10) + "</code>", // code keeps its lines
		"<li>b # c d</li>", // then one line
	} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(res.HTML, "<h1") {
		t.Error("a heading beyond the budget of lines")
	}
}

// TestSyntaxBudgetBoundsTables: tables beyond the cells budget of a
// document stay paragraphs.
func TestSyntaxBudgetBoundsTables(t *testing.T) {
	table := "| a | b |\n|---|---|\n" + strings.Repeat("| x | y |\n", 999) + "\n"
	res := render(t, strings.Repeat(table, maxTableCells/2000+3))
	// Cells are counted as the table extension could fill them, the outer
	// pipes as columns too: 4 × 1000 per table.
	if n, want := strings.Count(res.HTML, "<table"), maxTableCells/4000; n != want {
		t.Errorf("%d tables, want %d", n, want)
	}
}

// maxRenderAlloc is the most rendering any document at the body limit may
// allocate, garbage included: the budgets bound syntax, headings, table
// cells and lines, each to a few to 20 MB of goldmark's nodes and state.
const maxRenderAlloc = 64 << 20

// TestRenderAdversarialMemory renders every adversarial document at the
// 1 MiB body limit and checks the bytes it allocates (all of them, garbage
// included, which bounds the peak heap too); no time is measured.
func TestRenderAdversarialMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 15 MiB of Markdown")
	}
	r := New()
	for _, tc := range adversarial {
		t.Run(tc.name, func(t *testing.T) {
			src := atLimit(tc.gen)
			_, alloc := renderCost(t, r, src)
			t.Logf("%d bytes, %d lines: %.1f MB allocated", len(src), bytes.Count(src, []byte("\n")), float64(alloc)/1e6)
			if alloc > maxRenderAlloc {
				t.Errorf("rendering allocated %.1f MB, want at most %.1f MB", float64(alloc)/1e6, float64(maxRenderAlloc)/1e6)
			}
		})
	}
}

// atLimit is gen's document at the 1 MiB body limit.
func atLimit(gen func(int) string) []byte {
	src := []byte(gen(1 << 20))
	return src[:min(len(src), 1<<20)]
}

// peakHeap runs f and returns the most heap memory in live and not yet
// collected objects seen while it ran, above what was in use before,
// sampled every 100 µs from runtime/metrics (an estimate: a sample can
// miss the moment before a collection).
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	peak = max(peak, read())
	return peak - min(base, peak)
}

// BenchmarkRenderAdversarialPeak reports, for each adversarial document at
// the 1 MiB limit, the process's CPU time, the bytes allocated and the
// sampled peak heap of one render. Run with
//
//	go test ./wiki/markdown -run '^$' -bench RenderAdversarialPeak -benchtime 3x
func BenchmarkRenderAdversarialPeak(b *testing.B) {
	r := New()
	for _, tc := range adversarial {
		src := atLimit(tc.gen)
		b.Run(tc.name, func(b *testing.B) {
			var cpu time.Duration
			var alloc, peak uint64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := cpuTime(b)
				p := peakHeap(func() {
					if _, err := r.Render(src, "luebeck", nil); err != nil {
						b.Fatal(err)
					}
				})
				cpu += cpuTime(b) - start
				runtime.ReadMemStats(&after)
				alloc = max(alloc, after.TotalAlloc-before.TotalAlloc)
				peak = max(peak, p)
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(alloc)/(1<<20), "alloc-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

// FuzzSyntaxBudgetBoundsNodes repeats a fuzzed fragment far beyond a small
// budget and counts the inline nodes goldmark builds from the limited
// document: whatever the fragment (code, raw HTML, lists, quotes), they
// stay within a few times the budgets, as they must for the budget to
// bound memory. Run with
//
//	go test ./wiki/markdown -run '^$' -fuzz FuzzSyntaxBudgetBoundsNodes -fuzztime 5m
func FuzzSyntaxBudgetBoundsNodes(f *testing.F) {
	for _, tc := range adversarial {
		f.Add(tc.gen(64))
	}
	for _, s := range []string{
		"[a](b) ", "*a* ", "`a` [b]\n", "```\n[a]\n", "    [a]\n\n", "> ```\n[a]\n",
		"- ```\n[a]\n", "<div>\n```\n\n[a]\n", "`` ` [a] ", "www.a.de a@b.de ", "~~a~~ ",
		"<!--\n```\n-->\n[a]\n", "[[a]] [^1]\n\n[^1]: x\n", "- [ ] a\n",
	} {
		f.Add(s)
	}
	const budget, inCode = 20, 40
	r := New()
	f.Fuzz(func(t *testing.T, fragment string) {
		if len(fragment) == 0 || len(fragment) > 256 {
			t.Skip()
		}
		src := []byte(strings.Repeat(fragment, (32<<10)/len(fragment)+1))
		src = limitSyntaxTo(limitNesting(src), budget, inCode)
		doc := r.md.Parser().Parse(text.NewReader(src))
		nodes := 0
		_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if entering && n.Type() == ast.TypeInline && n.Kind() != ast.KindText && n.Kind() != ast.KindString {
				nodes++
			}
			return ast.WalkContinue, nil
		})
		// Each opener within a budget makes at most one node (an emphasis
		// takes two "*" or "_"); the bound allows twice that.
		if bound := 2 * numKinds * (budget + inCode); nodes > bound {
			t.Errorf("%d inline nodes from %d bytes, want at most %d: %q", nodes, len(src), bound, fragment)
		}
	})
}

// TestFastValueIsGoldmarksValue: the reader given to inline parsers
// returns what goldmark's block reader returns, for every range of a
// block of several lines, with padding.
func TestFastValueIsGoldmarksValue(t *testing.T) {
	src := []byte("eins [zwei]\n\tdrei\n  vier ]\nfünf\n")
	lines := text.NewSegments()
	lines.Append(text.NewSegment(0, 12))
	lines.Append(text.NewSegmentPadding(13, 18, 2))
	lines.Append(text.NewSegment(20, 27))
	lines.Append(text.NewSegment(27, len(src)))
	want := text.NewBlockReader(src, lines)
	got := fastValueReader{text.NewBlockReader(src, lines), lines}
	for start := 0; start < len(src); start++ {
		for stop := start; stop <= len(src); stop++ {
			seg := text.NewSegment(start, stop)
			if w, g := want.Value(seg), got.Value(seg); !bytes.Equal(w, g) {
				t.Fatalf("Value(%d, %d) = %q, want %q", start, stop, g, w)
			}
		}
	}
}
