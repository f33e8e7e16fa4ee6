// Package markdown turns article Markdown into safe HTML: CommonMark with the
// GitHub extensions, footnotes, heading anchors and a table of contents,
// syntax-highlighted code and wiki links ([[slug]], [[city/slug|text]]).
//
// Authors may write raw HTML. It is run through a bluemonday policy
// written for this content, together with the smallest block around it;
// the rest is written by renderers that escape all text and check every
// URL against the same rules (see sanitize_regions.go). Whatever the source,
// the output contains no scripts, event handlers, styles, frames, forms or
// dangerous URLs, and its tags are balanced, so it can be put into a page
// as it is.
package markdown
