package markdown

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"hansewiki/wiki/slug"
)

// Link is one wiki link target found in a document.
type Link struct{ City, Slug string }

// Heading is one entry of the table of contents.
type Heading struct {
	Level int    `json:"level"`
	ID    string `json:"id"`
	Text  string `json:"text"`
}

// Result of rendering one revision.
type Result struct {
	HTML  string
	TOC   []Heading
	Links []Link
}

// Target is what the wiki knows about a link target.
type Target struct {
	Exists bool
	// Title labels links written without text ([[slug]]); empty keeps the
	// address as written (for a target some readers of the linking
	// article may not open, its title must not show).
	Title string
}

// Resolve looks the given link targets up (same order and length as the
// input). A nil Resolve means all exist, without titles.
type Resolve func(targets []Link) ([]Target, error)

// Renderer turns Markdown into sanitized HTML. It is built once and safe
// for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	states sync.Pool // *renderState, so buffers are reused across renders
}

// New builds the Markdown pipeline and the sanitizer policy.
func New() *Renderer {
	r := &Renderer{policy: newPolicy()}
	r.md = goldmark.New(
		goldmark.WithParser(newParser()),
		goldmark.WithExtensions(
			// GFM (extension.GFM) with tables aligned by attribute, as the
			// sanitizer allows no style attribute. No typographer: German
			// quotes stay as written.
			boundedTables{},
			extension.Strikethrough,
			extension.Linkify,
			extension.TaskList,
			footnotes{},
			newHighlighting(),
			wikiLinks{},
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(
			// Raw HTML goes through to the sanitizer, which decides.
			html.WithUnsafe(),
			renderer.WithNodeRenderers(
				util.Prioritized(linkRenderer{}, 500),
				util.Prioritized(regionRenderer{}, 500),
				// Before the table extension's renderer (500), which it wraps.
				util.Prioritized(newTableRegionRenderer(), 400),
				// Before the task-list extension's renderer (500).
				util.Prioritized(taskCheckBoxRenderer{}, 400),
			),
		),
	)
	r.states.New = func() any { return new(renderState) }
	return r
}

// errResolveLen reports a Resolve func that broke its contract.
var errResolveLen = errors.New("markdown: resolve returned a result of the wrong length")

// Render renders src for an article owned by city. Wiki links [[slug]]
// resolve to city; [[other/slug]] and [[other/slug|text]] to other cities.
// resolve is called at most once, with all distinct targets.
func (r *Renderer) Render(src []byte, city string, resolve Resolve) (Result, error) {
	return r.RenderContext(context.Background(), src, city, resolve)
}

// RenderContext is Render that gives up, with ctx's error, once ctx ends
// (a preview whose client left): it checks between parsing, resolving,
// writing and sanitizing, each linear in the size of src.
func (r *Renderer) RenderContext(ctx context.Context, src []byte, city string, resolve Resolve) (Result, error) {
	return r.RenderWithFiles(ctx, src, city, resolve, nil)
}

// RenderWithFiles is RenderContext that also looks up the attachments the
// text refers to (at most once, with all their ids), so that images carry
// their size and links to documents say their type and size.
func (r *Renderer) RenderWithFiles(ctx context.Context, src []byte, city string, resolve Resolve, files Files) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	st := r.states.Get().(*renderState)
	defer r.release(st)

	st.ids.reset()
	pc := parser.NewContext(parser.WithIDs(&st.ids))
	src = limitSyntax(limitNesting(src))
	doc := r.md.Parser().Parse(text.NewReader(src), parser.WithContext(pc))

	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var res Result
	st.home = slug.Make(city, maxSlugLen)
	st.collect(doc, src, &res)
	if len(st.targets) > 0 {
		res.Links = slices.Clone(st.targets)
		if resolve != nil {
			found, err := resolve(slices.Clone(st.targets))
			if err != nil {
				return Result{}, fmt.Errorf("markdown: checking wiki link targets: %w", err)
			}
			if len(found) != len(st.targets) {
				return Result{}, errResolveLen
			}
			for i, n := range st.wikis {
				t := found[st.wikiTarget[i]]
				n.missing = !t.Exists
				if !n.labelled && t.Exists && t.Title != "" {
					n.label = []byte(t.Title)
				}
			}
		}
	}

	if len(st.fileIDs) > 0 && files != nil {
		found, err := files(slices.Clone(st.fileIDs))
		if err != nil {
			return Result{}, fmt.Errorf("markdown: looking up attachments: %w", err)
		}
		st.files = found
	}

	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	st.raw.Reset()
	if st.w.Writer == nil {
		st.w = renderWriter{Writer: bufio.NewWriterSize(&st.raw, 8<<10), st: st}
	} else {
		st.w.Reset(&st.raw)
	}
	if err := r.md.Renderer().Render(&st.w, src, doc); err != nil {
		return Result{}, fmt.Errorf("markdown: rendering: %w", err)
	}

	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	out, err := r.sanitizeRegions(st)
	if err != nil {
		return Result{}, fmt.Errorf("markdown: sanitizing: %w", err)
	}
	res.HTML = string(out)
	return res, nil
}

// renderState is the per-render scratch space, pooled by Renderer.
type renderState struct {
	ids  headingIDs
	home string // slug of the article's city

	// Wiki links in document order, each with the index of its target in
	// targets (distinct, in order of first appearance).
	wikis      []*wikiLink
	wikiTarget []int
	targets    []Link
	index      map[Link]int

	// Attachments the text refers to, and what Files said about them.
	fileIDs []string
	files   map[string]File

	text  []byte // heading text being collected
	depth int    // >0 while inside a TOC heading

	w   renderWriter
	raw bytes.Buffer // goldmark output

	// Sanitizing (sanitize_regions.go).
	regions   []region     // parts of raw to sanitize, in order
	region    []byte       // a region with raw-text elements confined
	in        bytes.Reader // reads one region
	sanitized bytes.Buffer // sanitizer output for one region
	open      []string     // elements opened by raw HTML and not yet closed
	clean     bytes.Buffer // the document with regions sanitized
	fixed     []byte       // clean with inputs fixed
}

// maxPooledBuf keeps one huge document from pinning its buffers forever.
const maxPooledBuf = 1 << 20

func (r *Renderer) release(st *renderState) {
	if st.raw.Cap() > maxPooledBuf || st.clean.Cap() > maxPooledBuf || st.sanitized.Cap() > maxPooledBuf {
		return
	}
	clear(st.wikis) // drop references into the AST
	st.wikis, st.wikiTarget, st.targets = st.wikis[:0], st.wikiTarget[:0], st.targets[:0]
	clear(st.index)
	st.fileIDs, st.files = st.fileIDs[:0], nil
	st.fixed, st.regions = st.fixed[:0], st.regions[:0]
	clear(st.open)
	st.open = st.open[:0]
	st.in.Reset(nil)
	st.region = st.region[:0]
	r.states.Put(st)
}
