package views

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hansewiki/wiki"
	"hansewiki/workflow"
)

// pngBytes encodes a w×h test image.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngClaiming is a small valid PNG whose header claims w×h pixels: a
// decompression bomb's header, which must be refused unopened.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	b := pngBytes(t, 4, 4)
	// IHDR data starts at 16: width, height; its CRC covers type and data.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// uploadRequest builds POST /api/v1/attachments with city and a file.
func uploadRequest(t testing.TB, token, city, name string, content io.Reader) *http.Request {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		if city != "" {
			mw.WriteField("city", city)
		}
		fw, _ := mw.CreateFormFile("file", name)
		if _, err := io.Copy(fw, content); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(mw.Close())
	}()
	req := httptest.NewRequest("POST", "/api/v1/attachments", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func upload(t testing.TB, s *Server, token, city, name string, content []byte) (*httptest.ResponseRecorder, attachmentJSON) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, uploadRequest(t, token, city, name, bytes.NewReader(content)))
	var a attachmentJSON
	if rec.Code == http.StatusCreated {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
	}
	return rec, a
}

func getFile(s *Server, token, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// An upload is stored once per content, answered as documented, and served
// with the protective headers, an ETag and ranges.
func TestAttachmentUploadAndServe(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, sampleItems...)
	doc := loadOpenAPI(t)
	_, token := apiUser(t, s, "autorin", "author", "luebeck")
	content := pngBytes(t, 40, 30)
	rec, a := upload(t, s, token, "luebeck", "Lageplan Süd.PNG", content)
	checkDocumented(t, doc, "/attachments", "post", rec)
	if rec.Code != 201 || a.ContentType != "image/png" || a.Name != "lageplan-sued.png" || a.Size != int64(len(content)) ||
		a.Width != 40 || a.Height != 30 || a.URL != "/files/"+a.ID+"/lageplan-sued.png" {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	// The same content again is a new attachment on the same stored blob.
	_, b := upload(t, s, token, "luebeck", "kopie.png", content)
	var blobs int
	s.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM blobs`).Scan(&blobs)
	if b.ID == a.ID || b.SHA256 != a.SHA256 || blobs != 1 {
		t.Fatalf("second upload of the same content: %+v, %d blobs", b, blobs)
	}

	got := getFile(s, token, a.URL)
	h := got.Header()
	if got.Code != 200 || !bytes.Equal(got.Body.Bytes(), content) || h.Get("Content-Type") != "image/png" ||
		h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
		h.Get("Content-Disposition") != `inline; filename=lageplan-sued.png` || h.Get("ETag") != `"`+a.SHA256+`"` ||
		h.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET %s: %d %v", a.URL, got.Code, h)
	}
	if r := getFile(s, token, a.URL, "Range", "bytes=10-19"); r.Code != 206 || !bytes.Equal(r.Body.Bytes(), content[10:20]) ||
		r.Header().Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(content)) {
		t.Fatalf("range: %d %q %v", r.Code, r.Body.Bytes(), r.Header())
	}
	if r := getFile(s, token, a.URL, "Range", fmt.Sprintf("bytes=%d-", len(content)+5)); r.Code != 416 {
		t.Fatalf("unsatisfiable range: %d", r.Code)
	}
	if r := getFile(s, token, a.URL, "If-None-Match", `"`+a.SHA256+`"`); r.Code != 304 {
		t.Fatalf("If-None-Match: %d", r.Code)
	}
	if r := getFile(s, token, "/files/"+a.ID+"/anderer-name.png"); r.Code != 404 {
		t.Fatalf("another name: %d", r.Code)
	}
	var audited int
	s.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'attachment.upload'
		AND actor = 'autorin' AND object = 'attachment:' || $1`, a.ID).Scan(&audited)
	if audited != 1 {
		t.Fatalf("the upload was audited %d times", audited)
	}
}

// A file larger than chunks is stored and read back across chunk borders,
// also by ranges that span them.
func TestAttachmentAcrossChunks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, token := apiUser(t, s, "autorin", "author", "luebeck")
	content := []byte(strings.Repeat("Zeile mit Text, die sich wiederholt.\n", 3*wiki.ChunkSize/37+100))
	rec, a := upload(t, s, token, "luebeck", "protokoll.csv", content)
	if rec.Code != 201 || a.ContentType != "text/csv; charset=utf-8" || a.Size != int64(len(content)) {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	if r := getFile(s, token, a.URL); !bytes.Equal(r.Body.Bytes(), content) {
		t.Fatalf("read back %d of %d bytes", r.Body.Len(), len(content))
	}
	from, to := wiki.ChunkSize-7, 2*wiki.ChunkSize+7
	r := getFile(s, token, a.URL, "Range", fmt.Sprintf("bytes=%d-%d", from, to))
	if r.Code != 206 || !bytes.Equal(r.Body.Bytes(), content[from:to+1]) {
		t.Fatalf("range across chunks: %d, %d bytes", r.Code, r.Body.Len())
	}
}

// What is not allowed is refused from its content, whatever its name: 415
// for a disguised or unsafe type, 413 beyond the limit and for an image
// whose header claims too many pixels (refused before decoding).
func TestAttachmentRefusals(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.opts.MaxUpload = 1 << 20
	doc := loadOpenAPI(t)
	_, token := apiUser(t, s, "autorin", "author", "luebeck")
	_, reviewer := apiUser(t, s, "pruefer", "reviewer", "luebeck")
	cases := []struct {
		name, city, file string
		content          []byte
		token            string
		status           int
	}{
		{"html disguised as png", "luebeck", "bild.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), token, 415},
		{"svg", "luebeck", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), token, 415},
		{"svg as text", "luebeck", "logo.txt", []byte(`<svg onload="alert(1)"></svg>`), token, 415},
		{"executable", "luebeck", "bericht.pdf", append([]byte("MZ\x90\x00\x03"), make([]byte, 200)...), token, 415},
		{"png header on garbage", "luebeck", "bild.png", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...), token, 415},
		{"zip that is no document", "luebeck", "daten.docx", append([]byte("PK\x03\x04"), bytes.Repeat([]byte("x"), 100)...), token, 415},
		{"too large", "luebeck", "gross.txt", bytes.Repeat([]byte("a"), 1<<20+1), token, 413},
		{"decompression bomb", "luebeck", "bombe.png", pngClaiming(t, 100000, 100000), token, 413},
		{"too many pixels", "luebeck", "breit.png", pngClaiming(t, 10000, 10000), token, 413},
		{"unknown city", "atlantis", "notiz.txt", []byte("Hallo"), token, 422},
		{"no city", "", "notiz.txt", []byte("Hallo"), token, 422},
		{"empty", "luebeck", "leer.txt", nil, token, 422},
		{"not an author", "luebeck", "notiz.txt", []byte("Hallo"), reviewer, 403},
		{"anonymous", "luebeck", "notiz.txt", []byte("Hallo"), "", 401},
	}
	for _, c := range cases {
		rec, _ := upload(t, s, c.token, c.city, c.file, c.content)
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.status, rec.Body)
			continue
		}
		checkDocumented(t, doc, "/attachments", "post", rec)
	}
	// Exactly the limit is fine; a bomb left nothing behind.
	if rec, _ := upload(t, s, token, "luebeck", "genau.txt", bytes.Repeat([]byte("a"), 1<<20)); rec.Code != 201 {
		t.Fatalf("at the limit: %d %s", rec.Code, rec.Body)
	}
	var attachments, blobs int
	s.store.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM attachments), (SELECT count(*) FROM blobs)`).Scan(&attachments, &blobs)
	if attachments != 1 || blobs != 1 {
		t.Fatalf("%d attachments and %d blobs after refusals", attachments, blobs)
	}
	// Allowed documents are recognised by their content.
	for name, want := range map[string]string{
		"bericht.pdf": "application/pdf", "foto.jpg": "image/jpeg", "tabelle.ods": "application/vnd.oasis.opendocument.spreadsheet",
	} {
		var content []byte
		switch want {
		case "application/pdf":
			content = []byte("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")
		case "image/jpeg":
			content = jpegBytes(t)
		default:
			content = append([]byte("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00mimetype"),
				[]byte(want+"PK\x03\x04")...)
		}
		rec, a := upload(t, s, token, "luebeck", "x"+name, content)
		if rec.Code != 201 || a.ContentType != want {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
}

// Who may read a file: its uploader, and whoever may read a revision that
// refers to it — a published one by the article's visibility, a proposal by
// who may see the change. Everyone else gets 404.
func TestAttachmentReaders(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ctx := context.Background()
	author, authorToken := apiUser(t, s, "autorin", "author", "luebeck")
	_, reviewerToken := apiUser(t, s, "pruefer", "reviewer", "luebeck")
	reviewer, _ := s.auth.IdentityByID(ctx, mustUserID(t, s, "pruefer"))
	_, otherCity := apiUser(t, s, "rostocker", "author", "rostock")
	member := account(t, s, "mitglied")

	readers := map[string]string{"anonymous": "", "member": member, "author@rostock": otherCity,
		"reviewer@luebeck": reviewerToken, "uploader": authorToken}
	check := func(what, url string, want map[string]int) {
		t.Helper()
		for who, tok := range readers {
			if got := getFile(s, tok, url).Code; got != want[who] {
				t.Errorf("%s: %s gets %d, want %d", what, who, got, want[who])
			}
		}
	}
	propose := func(vis wiki.Visibility, title, body string, publish bool) {
		t.Helper()
		c, err := s.workflow.Create(ctx, workflow.Meta{Identity: author}, workflow.Proposal{Submit: true,
			Draft: wiki.Draft{City: "luebeck", Title: title, Body: body, Visibility: vis}})
		if err != nil {
			t.Fatal(err)
		}
		if publish {
			if _, err := s.workflow.Approve(ctx, workflow.Meta{Identity: reviewer}, c.ID, "", 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	up := func(name string) attachmentJSON {
		t.Helper()
		rec, a := upload(t, s, authorToken, "luebeck", name, []byte("Inhalt von "+name))
		if rec.Code != 201 {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body)
		}
		return a
	}

	lone := up("allein.txt")
	check("a file no text refers to", lone.URL, map[string]int{"anonymous": 404, "member": 404, "author@rostock": 404, "reviewer@luebeck": 404, "uploader": 200})

	proposal := up("vorschlag.txt")
	propose(wiki.Public, "Offener Vorschlag", "Siehe [Datei]("+proposal.URL+").", false)
	check("a file of an unpublished proposal", proposal.URL, map[string]int{"anonymous": 404, "member": 404, "author@rostock": 404, "reviewer@luebeck": 200, "uploader": 200})

	cityOnly := up("intern.txt")
	propose(wiki.CityVis, "Nur für Lübeck", "Siehe [Datei]("+cityOnly.URL+").", true)
	check("a file of a city-only article", cityOnly.URL, map[string]int{"anonymous": 404, "member": 404, "author@rostock": 404, "reviewer@luebeck": 200, "uploader": 200})

	network := up("netz.txt")
	propose(wiki.Network, "Für das Netzwerk", "![Plan]("+network.URL+")", true)
	check("a file of a network article", network.URL, map[string]int{"anonymous": 404, "member": 200, "author@rostock": 200, "reviewer@luebeck": 200, "uploader": 200})

	public := up("offen.txt")
	propose(wiki.Public, "Öffentlich", "[Datei]: "+public.URL+"\n\nSiehe [Datei].", true)
	check("a file of a public article", public.URL, map[string]int{"anonymous": 200, "member": 200, "author@rostock": 200, "reviewer@luebeck": 200, "uploader": 200})

	// Writing a file's address into a proposal does not open it: a text may
	// refer only to files its author may read.
	rec := doJSON(t, s, "POST", "/api/v1/changes", otherCity, map[string]any{"city": "rostock", "title": "Abgeschrieben",
		"body": "![x](" + cityOnly.URL + ")", "visibility": "public"})
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "refers to a file") {
		t.Fatalf("proposal referring to an unreadable file: %d %s", rec.Code, rec.Body)
	}
	if got := getFile(s, otherCity, cityOnly.URL).Code; got != 404 {
		t.Fatalf("after the refused proposal: %d", got)
	}
	// A file it may read is fine.
	rec = doJSON(t, s, "POST", "/api/v1/changes", otherCity, map[string]any{"city": "rostock", "title": "Übernommen",
		"body": "![Plan](" + network.URL + ")", "visibility": "public"})
	if rec.Code != 201 {
		t.Fatalf("proposal referring to a readable file: %d %s", rec.Code, rec.Body)
	}
}

func mustUserID(t *testing.T, s *Server, username string) int64 {
	t.Helper()
	var id int64
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// An article shows a wide image as its scaled rendition, made once and
// stored, linked to the original; a document as a link with type and size.
func TestArticleShowsImageVariantsAndDocumentLinks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ctx := context.Background()
	author, token := apiUser(t, s, "autorin", "author", "luebeck")
	reviewer, _ := apiUser(t, s, "pruefer", "reviewer", "luebeck")
	_, img := upload(t, s, token, "luebeck", "luftbild.png", pngBytes(t, 1600, 1000))
	_, pdf := upload(t, s, token, "luebeck", "bericht.pdf", []byte("%PDF-1.4\n"+strings.Repeat("x", 2500)+"\n%%EOF\n"))
	c, err := s.workflow.Create(ctx, workflow.Meta{Identity: author}, workflow.Proposal{Submit: true,
		Draft: wiki.Draft{City: "luebeck", Title: "Mit Bildern", Visibility: wiki.Public,
			Body: "![Luftbild der Altstadt](" + img.URL + ")\n\n[Abschlussbericht](" + pdf.URL + ")\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.workflow.Approve(ctx, workflow.Meta{Identity: reviewer}, c.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	page := getFile(s, "", "/c/luebeck/mit-bildern").Body.String()
	for _, want := range []string{
		`<a href="` + img.URL + `"><img src="` + img.URL + `?w=800" alt="Luftbild der Altstadt" width="800" height="500"></a>`,
		`<a href="` + pdf.URL + `">Abschlussbericht</a> <small>(PDF, 3 KB)</small>`,
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("article lacks %s", want)
		}
	}
	for i := 0; i < 2; i++ {
		r := getFile(s, "", img.URL+"?w=800")
		got, _, err := image.DecodeConfig(r.Body)
		if r.Code != 200 || err != nil || got.Width != 800 || got.Height != 500 {
			t.Fatalf("rendition: %d %v %+v", r.Code, err, got)
		}
	}
	var variants int
	s.store.Pool().QueryRow(ctx, `SELECT count(*) FROM blob_variants`).Scan(&variants)
	if variants != 1 {
		t.Fatalf("%d renditions stored, want 1 made once", variants)
	}
	if r := getFile(s, "", img.URL); r.Code != 200 || r.Body.Len() != int(img.Size) {
		t.Fatalf("the original: %d, %d bytes", r.Code, r.Body.Len())
	}
}

// A change carries its accessibility warnings in the JSON, and the preview
// and the review page show them beside the text; the review page lists the
// files the proposal adds and removes. Warnings never block.
func TestWarningsAndFileChangesWhileWriting(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	doc := loadOpenAPI(t)
	ctx := context.Background()
	_, token := apiUser(t, s, "autorin", "author", "luebeck")
	_, reviewerToken := apiUser(t, s, "pruefer", "reviewer", "luebeck")
	reviewer, _ := s.auth.IdentityByID(ctx, mustUserID(t, s, "pruefer"))
	_, plan := upload(t, s, token, "luebeck", "plan.png", pngBytes(t, 20, 10))
	_, old := upload(t, s, token, "luebeck", "alt.pdf", []byte("%PDF-1.4\n%%EOF\n"))
	body := "#### Zu tief\n\n![](" + plan.URL + ")\n\nMehr steht [hier](https://example.org).\n"
	rec := doJSON(t, s, "POST", "/api/v1/changes", token, map[string]any{"city": "luebeck", "title": "Mit Hinweisen",
		"body": body, "visibility": "public", "submit": true})
	checkDocumented(t, doc, "/changes", "post", rec)
	var c struct {
		ID       int64
		State    string
		Warnings []struct{ Code, Detail string }
	}
	json.Unmarshal(rec.Body.Bytes(), &c)
	if rec.Code != 201 || c.State != "in_review" || fmt.Sprint(c.Warnings) != "[{heading.order h1 → h4} {image.alt "+plan.URL+"} {link.text hier}]" {
		t.Fatalf("change with warnings: %d %s", rec.Code, rec.Body)
	}
	rec = doJSON(t, s, "GET", fmt.Sprintf("/api/v1/changes/%d", c.ID), reviewerToken, nil)
	checkDocumented(t, doc, "/changes/{id}", "get", rec)
	if !strings.Contains(rec.Body.String(), `"code":"image.alt"`) ||
		!strings.Contains(rec.Body.String(), `"files":{"added":[{"id":"`+plan.ID+`","name":"plan.png"`) {
		t.Fatalf("GET change lacks warnings or files: %s", rec.Body)
	}

	page := getFile(s, reviewerToken, fmt.Sprintf("/changes/%d", c.ID)).Body.String()
	for _, want := range []string{"Hinweise zur Barrierefreiheit", "Bild ohne Alternativtext", "Der Linktext sagt nicht, wohin der Link führt: <q>hier</q>",
		`<ins>hinzugefügt</ins> <a href="` + plan.URL + `">plan.png</a> <small>(Bild PNG, `} {
		if !strings.Contains(page, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	// Publishing is not blocked; a later change that swaps the image for a
	// document shows both in its file diff.
	if _, err := s.workflow.Approve(ctx, workflow.Meta{Identity: reviewer}, c.ID, "", 0); err != nil {
		t.Fatalf("warnings must not block: %v", err)
	}
	a, _ := s.store.Article(ctx, wiki.Reader{}, "luebeck", "mit-hinweisen")
	rec = doJSON(t, s, "POST", "/api/v1/changes", token, map[string]any{"city": "luebeck", "slug": "mit-hinweisen", "base_revision": a.Revision.ID,
		"title": "Mit Hinweisen", "body": "## Bericht\n\n[Bericht 2024](" + old.URL + ")\n", "visibility": "public"})
	json.Unmarshal(rec.Body.Bytes(), &c)
	if rec.Code != 201 || len(c.Warnings) != 0 || !strings.Contains(rec.Body.String(), `"warnings":[]`) ||
		!strings.Contains(rec.Body.String(), `"url":"`+plan.URL+`"}]}`) {
		t.Fatalf("a clean text has no warnings, and the file diff names the removed image: %s", rec.Body)
	}
	checkDocumented(t, doc, "/changes", "post", rec)
	page = getFile(s, reviewerToken, fmt.Sprintf("/changes/%d", c.ID)).Body.String()
	if !strings.Contains(page, `<ins>hinzugefügt</ins> <a href="`+old.URL+`">alt.pdf</a> <small>(PDF, 15 Byte)</small>`) ||
		!strings.Contains(page, `<del>entfernt</del> <a href="`+plan.URL+`">plan.png</a>`) || strings.Contains(page, "Hinweise zur Barrierefreiheit") {
		t.Errorf("file diff of the second change:\n%s", page)
	}

	// The live preview shows the warnings beside the rendered text.
	req := httptest.NewRequest("POST", "/preview", strings.NewReader("city=luebeck&visibility=public&body="+
		strings.ReplaceAll("## A\n\n![](/x.png)\n", "\n", "%0A")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	prev := httptest.NewRecorder()
	s.ServeHTTP(prev, req)
	if prev.Code != 200 || !strings.Contains(prev.Body.String(), `<li data-code="image.alt">`) || !strings.Contains(prev.Body.String(), "<h2 id=\"a\">A</h2>") {
		t.Fatalf("preview: %d %s", prev.Code, prev.Body)
	}
}

func jsonField(b []byte, name string) string {
	var m map[string]any
	json.Unmarshal(b, &m)
	s, _ := m[name].(string)
	return s
}

// Authors uploading the same new content at the same moment all succeed,
// and the content is stored once.
func TestConcurrentUploadsOfTheSameContent(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, token := apiUser(t, s, "autorin", "author", "luebeck")
	content := bytes.Repeat([]byte("Gleicher Inhalt\n"), 40000)
	codes := make(chan int, 6)
	for i := 0; i < cap(codes); i++ {
		go func() {
			rec, _ := upload(t, s, token, "luebeck", "gleich.txt", content)
			codes <- rec.Code
		}()
	}
	for i := 0; i < cap(codes); i++ {
		if c := <-codes; c != 201 {
			t.Errorf("concurrent upload: %d", c)
		}
	}
	var attachments, blobs int
	s.store.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM attachments), (SELECT count(*) FROM blobs)`).Scan(&attachments, &blobs)
	if attachments != 6 || blobs != 1 {
		t.Fatalf("%d attachments on %d blobs, want 6 on 1", attachments, blobs)
	}
}
