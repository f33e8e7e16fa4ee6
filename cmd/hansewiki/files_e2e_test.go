package main

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hansewiki/migrations/pgtest"
)

// Files travel with their article: import stores DIR/{city}/{slug}.files/
// under their ids, the article shows them, who may read the article may
// read them, and export → import → export gives identical files, binary
// content included.
func TestExportImportWithFiles(t *testing.T) {
	t.Parallel()
	first, second := pgtest.URL(t), pgtest.URL(t)
	const imgID, pdfID, secretID = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210", "00112233445566778899aabbccddeeff"
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 1200, 300)))
	pdf := "%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
	src := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("luebeck/hafen.md", "---\ntitle: Hafen\nvisibility: public\n---\n![Luftbild des Hafens](/files/"+imgID+"/luftbild.png)\n\n[Bericht](/files/"+pdfID+"/bericht.pdf)\n")
	write("luebeck/hafen.files/"+imgID+"-luftbild.png", img.String())
	write("luebeck/hafen.files/"+pdfID+"-bericht.pdf", pdf)
	write("luebeck/intern.md", "---\ntitle: Intern\nvisibility: city\n---\n[Liste](/files/"+secretID+"/liste.csv)\n")
	write("luebeck/intern.files/"+secretID+"-liste.csv", "a;b\n1;2\n")
	if out, err := cli(t, first, "import", src); err != nil {
		t.Fatalf("import with files: %v\n%s", err, out)
	}

	m := startServer(t, first)
	base := m.URL()
	code, page := get(t, base+"/c/luebeck/hafen")
	if code != 200 || !strings.Contains(page, `<img src="/files/`+imgID+`/luftbild.png?w=800" alt="Luftbild des Hafens" width="800" height="200">`) ||
		!strings.Contains(page, `<small>(PDF, 36 Byte)</small>`) {
		t.Fatalf("imported article: %d\n%s", code, page)
	}
	if code, body := get(t, base+"/files/"+pdfID+"/bericht.pdf"); code != 200 || body != pdf {
		t.Fatalf("file of a public article: %d %q", code, body)
	}
	if code, _ := get(t, base+"/files/"+secretID+"/liste.csv"); code != http.StatusNotFound {
		t.Fatalf("file of a city-only article, anonymously: %d", code)
	}

	dir1, dir2 := t.TempDir(), t.TempDir()
	if out, err := cli(t, first, "export", dir1); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if out, err := cli(t, second, "import", dir1); err != nil {
		t.Fatalf("import of the export: %v\n%s", err, out)
	}
	if out, err := cli(t, second, "export", dir2); err != nil {
		t.Fatalf("second export: %v\n%s", err, out)
	}
	files0, files1, files2 := readTree(t, src), readTree(t, dir1), readTree(t, dir2)
	if len(files1) != 5 || len(files2) != 5 {
		t.Fatalf("exports have %d and %d files, want 5: %v", len(files1), len(files2), keys(files1))
	}
	for name, content := range files1 {
		if files2[name] != content {
			t.Errorf("%s differs after export → import → export", name)
		}
		if strings.Contains(name, ".files") && files0[name] != content {
			t.Errorf("%s differs from the imported file", name)
		}
	}

	// A file whose article is missing, or a disguised one, fails the whole
	// import, naming the file.
	bad := t.TempDir()
	os.MkdirAll(filepath.Join(bad, "luebeck", "a.files"), 0o755)
	os.WriteFile(filepath.Join(bad, "luebeck", "a.md"), []byte("---\ntitle: A\nvisibility: public\n---\nText\n"), 0o644)
	os.WriteFile(filepath.Join(bad, "luebeck", "a.files", imgID+"-bild.png"), []byte("<html><script>x</script></html>"), 0o644)
	if out, err := cli(t, second, "import", bad); err == nil || !strings.Contains(err.Error()+out, "a.files/"+imgID+"-bild.png") {
		t.Fatalf("a disguised file must fail the import naming it: %v\n%s", err, out)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
