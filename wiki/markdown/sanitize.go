package markdown

import (
	"bytes"
	"net/url"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// newPolicy builds the allowlist for rendered articles: what goldmark and
// its extensions emit, plus the harmless HTML authors use (kbd,
// details/summary, sup, abbr, ...). Everything else, notably scripts,
// styles, frames, forms, SVG and MathML, event handlers and style
// attributes, is dropped.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()

	// URLs: every href and src must parse; only these schemes pass. data:
	// is allowed for the scheme check, but the attribute patterns below
	// admit it only as a raster image in img src.
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowURLSchemeWithCustomPolicy("data", isRasterImageDataURL)
	// Raw HTML links to other sites get rel="nofollow" here; Markdown links
	// already carry rel="nofollow noopener" from linkRenderer.
	p.RequireNoFollowOnFullyQualifiedLinks(true)

	p.AllowElements(
		"p", "br", "hr", "blockquote", "div", "span",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"ul", "ol", "li", "dl", "dt", "dd",
		"strong", "em", "b", "i", "s", "del", "ins", "mark", "small",
		"sup", "sub", "kbd", "samp", "var", "code", "pre", "abbr", "cite", "q",
		"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
		"details", "summary", "figure", "figcaption",
	)

	// Anchors: heading IDs come from slug.Make, footnote IDs from goldmark.
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)).
		OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^fnref[0-9]*:[0-9]+$`)).OnElements("sup")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^fn:[0-9]+$`)).OnElements("li")

	// Links. Go's regexp has no lookahead, so the href pattern admits an
	// allowed scheme or a relative reference (no colon before the first /,
	// ? or #); that keeps data: out of links. bluemonday then parses the
	// URL and checks the scheme again.
	p.AllowAttrs("href").Matching(regexp.MustCompile(`^(?:(?i:https?|mailto):|[^:/?#]*(?:[/?#]|$))`)).
		OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(?:wikilink|wikilink wikilink-missing|footnote-ref|footnote-backref)$`)).
		OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^nofollow noopener$`)).OnElements("a")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-(?:noteref|backlink)$`)).OnElements("a")
	p.AllowAttrs("title").OnElements("a", "abbr", "img")

	// Scroll regions around tables (table_region.go).
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^table-scroll$`)).OnElements("div")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^region$`)).OnElements("div")
	p.AllowAttrs("tabindex").Matching(regexp.MustCompile(`^0$`)).OnElements("div")
	p.AllowAttrs("aria-label").Matching(regexp.MustCompile(`^Tabelle$`)).OnElements("div")

	// Footnote list.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^footnotes$`)).OnElements("div")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-endnotes$`)).OnElements("div")

	// Images: http(s), relative, or an inline PNG, JPEG, GIF or WebP. Not
	// SVG: an SVG document can carry script.
	p.AllowAttrs("src").Matching(regexp.MustCompile(`^(?:(?i:https?):|data:image/(?:png|jpeg|gif|webp)[;,]|[^:/?#]*(?:[/?#]|$))`)).
		OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(regexp.MustCompile(`^[0-9]{1,4}$`)).OnElements("img")

	// Tables align cells with the align attribute (goldmark is configured
	// for it), so no style attribute is needed anywhere.
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(?:left|center|right)$`)).OnElements("th", "td")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")

	// Highlighted code: chroma's classes and the focusable scroll region
	// (keyboard users must be able to scroll wide code).
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^chroma$`)).OnElements("pre")
	p.AllowAttrs("tabindex").Matching(regexp.MustCompile(`^0$`)).OnElements("pre")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^[a-z][a-z0-9]{0,5}$`)).OnElements("span")

	// Task lists. bluemonday cannot require an attribute, so
	// keepOnlyDisabledCheckboxes finishes the job after sanitizing.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^(?:|checked|disabled)$`)).OnElements("input")
	p.AllowAttrs("aria-label").Matching(regexp.MustCompile(`^(?:erledigt|offen)$`)).OnElements("input")

	p.AllowAttrs("open").Matching(regexp.MustCompile(`^(?:|open)$`)).OnElements("details")
	// Language of parts (WCAG 3.1.2), e.g. an English quotation.
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$`)).Globally()

	return p
}

// isRasterImageDataURL admits data:image/{png,jpeg,gif,webp}. bluemonday's
// AllowDataURIImages would also admit image/svg+xml.
func isRasterImageDataURL(u *url.URL) bool {
	return u.RawQuery == "" && u.Fragment == "" && isRasterImageData([]byte(u.Opaque))
}

var inputTag = []byte("<input")

// keepOnlyDisabledCheckboxes rewrites sanitized HTML so that every input is
// a disabled checkbox: other inputs are removed, enabled ones disabled.
// bluemonday's output is canonical (attributes quoted, "<" and ">" escaped
// inside values), so a byte scan is exact. It appends the result to dst.
func keepOnlyDisabledCheckboxes(dst, html []byte) []byte {
	for {
		i := bytes.Index(html, inputTag)
		if i < 0 {
			return append(dst, html...)
		}
		end := bytes.IndexByte(html[i:], '>')
		if end < 0 {
			return append(dst, html[:i]...)
		}
		tag := html[i : i+end+1]
		dst = append(dst, html[:i]...)
		if bytes.Contains(tag, []byte(` type="checkbox"`)) {
			dst = append(dst, tag[:len(inputTag)]...)
			if !bytes.Contains(tag, []byte(` disabled="`)) {
				dst = append(dst, ` disabled=""`...)
			}
			dst = append(dst, tag[len(inputTag):]...)
		}
		html = html[i+end+1:]
	}
}
