// Package search finds published articles for a reader: one Searcher
// interface with two implementations, Meilisearch (when MEILI_URL is set)
// and PostgreSQL full-text search (the embedded default, and the fallback
// while Meilisearch is down), plus the outbox worker that keeps the
// Meilisearch index in step with publications.
//
// Both backends take the same Query and answer the same Result. Every query
// carries a filter built from the reader's wiki.Reader, so no hit, snippet,
// facet count, total, suggestion or similar article reveals an article the
// reader may not open. Snippets are HTML in which the article text is
// escaped and only <mark> elements survive.
//
// The PostgreSQL index is the table search_documents. Publishing queues the
// article in search_outbox (a trigger, migration 0005); the worker, woken by
// the publication's notification, refreshes the row right after commit and
// then feeds Meilisearch from the same row. A change that narrows who may
// find an article removes its row inside the publishing transaction.
package search
