// Package wiki owns the content of Hansewiki: cities, topics, articles and
// their immutable revisions, wiki links between articles, and the article
// store on PostgreSQL. Rendering lives in wiki/markdown, diffs in
// wiki/textdiff and search in wiki/search.
package wiki
