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

// BenchmarkRenderRawHTML is the same article with raw HTML in most tables
// and some paragraphs (m<sup>2</sup> instead of m²): those blocks go
// through bluemonday.
func BenchmarkRenderRawHTML(b *testing.B) {
	src := bytes.ReplaceAll(readBenchDocument(b), []byte("m²"), []byte("m<sup>2</sup>"))
	r := New()
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := r.Render(src, "luebeck", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSanitizeWholeDocument is what sanitizing the whole rendered
// article with the policy would add on top of rendering it; it is why only
// raw-HTML blocks are sanitized (sanitize_regions.go).
func BenchmarkSanitizeWholeDocument(b *testing.B) {
	r := New()
	res, err := r.Render(readBenchDocument(b), "luebeck", nil)
	if err != nil {
		b.Fatal(err)
	}
	in := []byte(res.HTML)
	var out bytes.Buffer
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		out.Reset()
		if err := r.policy.SanitizeReaderToWriter(bytes.NewReader(in), &out); err != nil {
			b.Fatal(err)
		}
	}
}
