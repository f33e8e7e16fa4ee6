package markdown

import (
	"context"
	"strings"
	"testing"
)

// Images stored in the wiki show as their scaled rendition linked to the
// original, with the rendition's size; links to documents say type and size.
func TestFilesRenderAsVariantsAndLinksWithTypeAndSize(t *testing.T) {
	const img, pdf = "/files/0123456789abcdef0123456789abcdef/lageplan.png", "/files/fedcba9876543210fedcba9876543210/bericht.pdf"
	var asked []string
	files := func(ids []string) (map[string]File, error) {
		asked = ids
		return map[string]File{"0123456789abcdef0123456789abcdef": {Size: 123456, Width: 1600, Height: 900},
			"fedcba9876543210fedcba9876543210": {Size: 1234567}}, nil
	}
	src := "![Lageplan](" + img + ")\n\n![](" + img + ")\n\n[Bericht](" + pdf + ")\n\n[Fremd](https://example.org/x.pdf)\n"
	res, err := New().RenderWithFiles(context.Background(), []byte(src), "luebeck", nil, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<a href="` + img + `"><img src="` + img + `?w=800" alt="Lageplan" width="800" height="450"></a>`,
		`<p><img src="` + img + `?w=800" alt="" width="800" height="450"></p>`,
		`<a href="` + pdf + `">Bericht</a> <small>(PDF, 1,2 MB)</small>`,
		`<a href="https://example.org/x.pdf" rel="nofollow noopener">Fremd</a></p>`,
	} {
		if !strings.Contains(res.HTML, want) {
			t.Errorf("missing %s in\n%s", want, res.HTML)
		}
	}
	if len(asked) != 2 {
		t.Errorf("looked up %v, want both attachments once", asked)
	}
}

func TestFileSize(t *testing.T) {
	for n, want := range map[int64]string{12: "12 Byte", 830_400: "830 KB", 1_234_567: "1,2 MB", 20 << 20: "21,0 MB"} {
		if got := FileSize(n); got != want {
			t.Errorf("FileSize(%d) = %q, want %q", n, got, want)
		}
	}
}
