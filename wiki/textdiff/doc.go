// Package textdiff compares two revisions of an article's Markdown source for
// the "compare revisions" page and the "+12 −3" figures in the history, and
// merges two edits of one revision (Merge3) for the conflict editor.
//
// Words diffs prose word by word, Lines diffs the source line by line, Prose
// aligns lines and diffs changed lines word by word, and HTML renders such a
// line diff as escaped HTML. All of them run Myers' O(ND) algorithm over
// tokens after trimming the common prefix and suffix, so a one-word change in
// a large article costs little more than reading it, and they give up on
// regions whose edit distance exceeds a cap (reporting them as deleted and
// inserted) instead of taking quadratic time on unrelated texts.
package textdiff
