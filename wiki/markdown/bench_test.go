package markdown

import (
	"bytes"
	"os"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

const benchDocument = "testdata/artikel-20kb.md"

func readBenchDocument(tb testing.TB) []byte {
	tb.Helper()
	src, err := os.ReadFile(benchDocument)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// TestBenchmarkDocumentSize keeps the benchmark comparable over time.
func TestBenchmarkDocumentSize(t *testing.T) {
	src := readBenchDocument(t)
	if n := len(src); n < 18*1024 || n > 22*1024 {
		t.Errorf("%s is %d bytes, want 18-22 KB", benchDocument, n)
	}
	if bytes.Contains(src, []byte("```")) {
		t.Errorf("%s must not contain code: it measures text and tables", benchDocument)
	}
}

// BenchmarkGoldmarkGFM is the reference: plain goldmark with GFM, no
// sanitizer. BenchmarkRender should stay within 2x of it.
func BenchmarkGoldmarkGFM(b *testing.B) {
	src := readBenchDocument(b)
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	var buf bytes.Buffer
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		buf.Reset()
		if err := md.Convert(src, &buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	src := readBenchDocument(b)
	r := New()
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := r.Render(src, "luebeck", nil); err != nil {
			b.Fatal(err)
		}
	}
}
