// Package markdown turns article Markdown into safe HTML: CommonMark with the
// GitHub extensions, footnotes, heading anchors and a table of contents,
// syntax-highlighted code and wiki links ([[slug]], [[city/slug|text]]).
//
// Raw HTML is allowed in the source, but every rendered document goes
// through one bluemonday policy written for this content, so whatever the
// author wrote, the output contains no scripts, event handlers, styles or
// dangerous URLs.
package markdown
