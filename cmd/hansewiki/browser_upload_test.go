package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"hansewiki/migrations/pgtest"
)

// pollBody waits until the editor's text contains want.
func pollBody(want string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`document.querySelector("#body").value.includes(%q)`, want),
		nil, chromedp.WithPollingTimeout(20*time.Second))
}

// Authors add images and files in a real browser: by the file input (the
// toolbar's button), by pasting from the clipboard and by dropping them. An image asks for
// its alt text and goes into the text as ![alt](/files/…), a document as a
// link; the live preview shows the image; the toolbar edits the Markdown by
// mouse and by keyboard; axe finds nothing on the editor with its tools.
func TestEditorUploadsInBrowser(t *testing.T) {
	t.Parallel()
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `npm ci` at the repository root", err)
	}
	chromium := chromiumPath(t)
	dbURL := pgtest.URL(t)
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	var pngData bytes.Buffer
	png.Encode(&pngData, img)
	imgPath := filepath.Join(dir, "Lageplan Süd.png")
	if err := os.WriteFile(imgPath, pngData.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The corpus, and an article with an image and a document.
	src := writeCorpus(t, corpus)
	const imgID, pdfID = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	os.MkdirAll(filepath.Join(src, "luebeck", "hafen.files"), 0o755)
	os.WriteFile(filepath.Join(src, "luebeck", "hafen.md"), []byte("---\ntitle: Hafen mit Bildern\nvisibility: public\n---\n"+
		"## Lage\n\n![Luftbild des Hafens mit Kaikante](/files/"+imgID+"/luftbild.png)\n\n[Abschlussbericht 2024](/files/"+pdfID+"/bericht.pdf)\n"), 0o644)
	var wide bytes.Buffer
	png.Encode(&wide, image.NewGray(image.Rect(0, 0, 1600, 900)))
	os.WriteFile(filepath.Join(src, "luebeck", "hafen.files", imgID+"-luftbild.png"), wide.Bytes(), 0o644)
	os.WriteFile(filepath.Join(src, "luebeck", "hafen.files", pdfID+"-bericht.pdf"), []byte("%PDF-1.4\n%%EOF\n"), 0o644)
	if out, err := cli(t, dbURL, "import", src); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	addUser(t, dbURL, "autorin", [2]string{"author", "luebeck"})
	m := startServer(t, dbURL)
	base := m.URL()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	browser, closeBrowser := startChromium(ctx, t, chromium)
	defer closeBrowser()
	tab, closeTab := browserLogin(browser, t, base, "autorin")
	defer closeTab()
	// The alt-text prompt is answered like a person would; leaving the
	// editor with unsaved text asks first, and the answer is "leave".
	chromedp.ListenTarget(tab, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(tab, page.HandleJavaScriptDialog(true).WithPromptText("Lageplan des Quartiers"))
		}
	})

	err = chromedp.Run(tab,
		chromedp.Navigate(base+"/c/luebeck/new"),
		chromedp.WaitVisible(".editor-toolbar", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("editor with toolbar: %v", err)
	}
	runAxe(tab, t, axeSrc, "desktop", "/c/luebeck/new (writing aid)")

	// By the file input.
	var status string
	err = chromedp.Run(tab,
		chromedp.SetUploadFiles("#upload-input", []string{imgPath}, chromedp.ByQuery),
		pollBody("![Lageplan des Quartiers](/files/"),
		pollText("#upload-status", "lageplan-sued.png"),
		chromedp.Text("#upload-status", &status, chromedp.ByQuery),
		chromedp.WaitVisible(`#preview img[src^="/files/"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("upload by the file input: %v (status %q)", err, status)
	}
	var body string
	chromedp.Run(tab, chromedp.Value("#body", &body, chromedp.ByQuery))
	url := body[strings.Index(body, "/files/") : strings.Index(body, ".png)")+4]
	if code, got := get(t, base+url); code != 404 {
		t.Fatalf("the file of an unsaved draft must be 404 to others, got %d %.50q", code, got)
	}
	var naturalWidth int
	if err := chromedp.Run(tab, chromedp.Poll(`(() => { const i = document.querySelector("#preview img"); return i && i.complete ? i.naturalWidth : 0; })()`,
		&naturalWidth, chromedp.WithPollingTimeout(10*time.Second))); err != nil || naturalWidth != 64 {
		t.Fatalf("the preview must load the uploaded image for its uploader (width %d): %v", naturalWidth, err)
	}

	// By pasting a file from the clipboard.
	paste := fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], "Protokoll.txt", {type: "text/plain"}));
		const b = document.querySelector("#body");
		b.focus(); b.setSelectionRange(b.value.length, b.value.length);
		b.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));
		return true; })()`, base64.StdEncoding.EncodeToString([]byte("Sitzung am Montag\n")))
	err = chromedp.Run(tab,
		chromedp.Evaluate(paste, nil),
		pollBody("[protokoll.txt](/files/"),
	)
	if err != nil {
		t.Fatalf("upload by paste: %v", err)
	}
	// By dropping a file onto the text.
	drop := strings.Replace(strings.Replace(paste, "Protokoll.txt", "Tabelle.csv", 1),
		`b.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));`,
		`b.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
		b.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));`, 1)
	err = chromedp.Run(tab,
		chromedp.Evaluate(drop, nil),
		pollBody("[tabelle.csv](/files/"),
	)
	if err != nil {
		t.Fatalf("upload by drag and drop: %v", err)
	}
	// A disguised file is refused with a message, and nothing is inserted.
	disguised := strings.Replace(paste, "Protokoll.txt", "bild.png", 1)
	disguised = strings.Replace(disguised, base64.StdEncoding.EncodeToString([]byte("Sitzung am Montag\n")),
		base64.StdEncoding.EncodeToString([]byte("<!DOCTYPE html><script>alert(1)</script>")), 1)
	err = chromedp.Run(tab,
		chromedp.Evaluate(disguised, nil),
		pollText("#upload-status", "Dateityp ist nicht erlaubt"),
	)
	if err != nil {
		t.Fatalf("a disguised file must be refused with a message: %v", err)
	}

	// The toolbar: bold by mouse on the selection, italic by shortcut, and
	// the arrow keys move between its buttons.
	var focused string
	err = chromedp.Run(tab,
		chromedp.Evaluate(`(() => { const b = document.querySelector("#body"); b.value = "Wort"; b.focus(); b.setSelectionRange(0, 4); return true; })()`, nil),
		chromedp.Click(`.editor-toolbar button[data-action="bold"]`, chromedp.ByQuery),
		pollBody("**Wort**"),
		chromedp.Evaluate(`(() => { const b = document.querySelector("#body"); b.focus(); b.setSelectionRange(2, 6); return true; })()`, nil),
		chromedp.KeyEvent("i", chromedp.KeyModifiers(input.ModifierCtrl)),
		pollBody("**_Wort_**"),
		chromedp.Focus(`.editor-toolbar button[data-action="heading"]`, chromedp.ByQuery),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.Evaluate(`document.activeElement.dataset.action`, &focused),
	)
	if err != nil || focused != "bold" {
		t.Fatalf("toolbar by mouse and keyboard (focus on %q): %v", focused, err)
	}

	// "[[" offers titles of readable articles; arrow down and Enter take one.
	err = chromedp.Run(tab,
		chromedp.Evaluate(`(() => { const b = document.querySelector("#body"); b.value = ""; b.focus(); return true; })()`, nil),
		chromedp.SendKeys("#body", "Siehe [[Starkreg", chromedp.ByQuery),
		chromedp.WaitVisible(`#wikilink-list li`, chromedp.ByQuery),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent(kb.Enter),
		pollBody("Siehe [[rostock/starkregen-hinweiskarte]]"),
	)
	if err != nil {
		t.Fatalf("wiki-link completion: %v", err)
	}

	// The preview marks an image without alt text; it warns, nothing more.
	err = chromedp.Run(tab,
		chromedp.Evaluate(`(() => { const b = document.querySelector("#body"); b.value = "## Plan\n\n![](/files/x/y.png)\n"; b.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, nil),
		chromedp.WaitVisible(`#preview .a11y-warnings li[data-code="image.alt"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("accessibility warning beside the preview: %v", err)
	}

	// An article with images: the rendition, linked to the original, and
	// the document's type and size; axe finds nothing.
	var width int
	err = chromedp.Run(tab,
		chromedp.Navigate(base+"/c/luebeck/hafen"),
		chromedp.Poll(`(() => { const i = document.querySelector('.prose a[href$="luftbild.png"] > img'); return i && i.complete ? i.naturalWidth : 0; })()`,
			&width, chromedp.WithPollingTimeout(10*time.Second)),
		pollText(".prose", "(PDF, 15 Byte)"),
	)
	if err != nil || width != 800 {
		t.Fatalf("article with images (rendition width %d): %v", width, err)
	}
	runAxe(tab, t, axeSrc, "desktop", "/c/luebeck/hafen (images)")
}
