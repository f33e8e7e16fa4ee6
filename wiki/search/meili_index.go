package search

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/meilisearch/meilisearch-go"
)

// taskPoll is how often a Meilisearch task is asked whether it finished:
// small, as publish-to-searchable waits for it.
const taskPoll = 10 * time.Millisecond

// TaskError is a Meilisearch task that ran and failed, e.g. a rejected
// document or setting: Meilisearch was reachable, the request was wrong.
type TaskError struct {
	What    string
	Status  meilisearch.TaskStatus
	Code    string
	Message string
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("meilisearch %s: task %s: %s (%s)", e.What, e.Status, e.Message, e.Code)
}

// wait waits for the task a call enqueued and turns its failure into an error.
func (m *Meili) wait(ctx context.Context, what string, info *meilisearch.TaskInfo, err error) error {
	if err != nil {
		return fmt.Errorf("meilisearch %s: %w", what, err)
	}
	task, err := m.client.WaitForTaskWithContext(ctx, info.TaskUID, taskPoll)
	if err != nil {
		return fmt.Errorf("meilisearch %s: waiting for task %d: %w", what, info.TaskUID, err)
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return &TaskError{What: what, Status: task.Status, Code: task.Error.Code, Message: task.Error.Message}
	}
	return nil
}

// settings are the index settings; ApplySettings sends them at start-up and
// reindex before any document, and they are idempotent.
func settings() *meilisearch.Settings {
	return &meilisearch.Settings{
		// Title first, then tags and topic names, then the text; the
		// fields after it exist for matching only (see words.go).
		SearchableAttributes: []string{"title", "tags", "topic_names", "city_name", "text", "translit", "compounds"},
		FilterableAttributes: []string{"id", "city", "topics", "tags", "visibility", "status", "start_year", "cost_band", "funding", "updated_at"},
		SortableAttributes:   []string{"updated_at", "title_sort", "id"},
		// "sort" first: a sorted search is strictly in that order, as in
		// PostgreSQL; without a sort it does nothing.
		RankingRules: []string{"sort", "words", "typo", "proximity", "attribute", "exactness"},
		StopWords:    meiliStopWords(),
		Synonyms:     meiliSynonyms(),
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled: true,
			// Two typos from 8 letters rather than 9, so "Sensoren" also
			// finds "Sensor": Meilisearch does not stem, and German
			// inflection mostly adds one or two letters.
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: oneTypoRunes, TwoTypos: twoTyposRunes},
			DisableOnWords:      []string{},
			DisableOnAttributes: []string{},
			DisableOnNumbers:    true,
		},
		Faceting: &meilisearch.Faceting{
			MaxValuesPerFacet: maxFacetValues,
			SortFacetValuesBy: map[string]meilisearch.SortFacetType{"*": meilisearch.SortFacetTypeCount},
		},
		// Totals are counted up to this many matches; more than a
		// network of cities will write.
		Pagination: &meilisearch.Pagination{MaxTotalHits: maxTotalHits},
		// German word segmentation only for the list of long words: it
		// splits compounds ("Gründachkataster" → "gründach", "kataster").
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{{Locales: []string{"deu"}, AttributePatterns: []string{"compounds"}}},
	}
}

// ensureIndex creates the index uid with primary key "id" unless it exists.
func (m *Meili) ensureIndex(ctx context.Context, uid string) error {
	_, err := m.client.GetIndexWithContext(ctx, uid)
	var me *meilisearch.Error
	if err == nil {
		return nil
	}
	if !errors.As(err, &me) || me.StatusCode != http.StatusNotFound {
		return fmt.Errorf("meilisearch index %s: %w", uid, err)
	}
	info, err := m.client.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: uid, PrimaryKey: "id"})
	err = m.wait(ctx, "creating index "+uid, info, err)
	var te *TaskError
	if errors.As(err, &te) && te.Code == "index_already_exists" {
		return nil // another instance was quicker
	}
	return err
}

// ApplySettings creates the index if needed and applies the settings,
// waiting until Meilisearch has.
func (m *Meili) ApplySettings(ctx context.Context) error {
	return m.applySettings(ctx, m.index)
}

func (m *Meili) applySettings(ctx context.Context, uid string) error {
	if err := m.ensureIndex(ctx, uid); err != nil {
		return err
	}
	info, err := m.client.Index(uid).UpdateSettingsWithContext(ctx, settings())
	return m.wait(ctx, "settings of "+uid, info, err)
}

// Upsert adds or replaces documents and waits until they are searchable.
func (m *Meili) Upsert(ctx context.Context, docs []Document) error {
	if len(docs) == 0 {
		return nil
	}
	pk := "id"
	info, err := m.client.Index(m.index).AddDocumentsWithContext(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	return m.wait(ctx, "adding documents", info, err)
}

// Delete removes the documents of the given articles and waits.
func (m *Meili) Delete(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	info, err := m.client.Index(m.index).DeleteDocumentsWithContext(ctx, s, nil)
	return m.wait(ctx, "deleting documents", info, err)
}

// DocumentIDs lists the ids of all documents in the index (tests, checks).
func (m *Meili) DocumentIDs(ctx context.Context) ([]int64, error) {
	var out []int64
	for offset := int64(0); ; offset += 1000 {
		var res meilisearch.DocumentsResult
		err := m.client.Index(m.index).GetDocumentsWithContext(ctx, &meilisearch.DocumentsQuery{
			Offset: offset, Limit: 1000, Fields: []string{"id"}}, &res)
		if err != nil {
			return nil, fmt.Errorf("meilisearch documents: %w", err)
		}
		for _, h := range res.Results {
			var d struct {
				ID int64 `json:"id"`
			}
			if err := h.DecodeInto(&d); err != nil {
				return nil, err
			}
			out = append(out, d.ID)
		}
		if int64(len(res.Results)) < 1000 {
			return out, nil
		}
	}
}

// maxTotalHits bounds the matches Meilisearch counts and pages through.
const maxTotalHits = 100000

// reindexBatch is how many documents go to Meilisearch per request.
const reindexBatch = 1000

// reindexLock is the advisory lock reindex holds exclusively and the outbox
// worker shared: while an index is rebuilt, workers leave the outbox alone,
// so what is published meanwhile reaches the new index after the swap
// instead of the old one before it.
const reindexLock = 0x68616e7365_5358 // "hanse" "SX"

// Reindex rebuilds the index from PostgreSQL: a fresh index gets the
// settings and every document, then swaps places with the live one, so
// searches never see a half-built index, and the old one is deleted.
// progress is called as documents become searchable.
func (m *Meili) Reindex(ctx context.Context, pool *pgxpool.Pool, progress func(done, total int)) (int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(reindexLock)); err != nil {
		return 0, fmt.Errorf("reindex lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(reindexLock))

	var total int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM search_documents`).Scan(&total); err != nil {
		return 0, err
	}
	tmp := m.index + "_tmp_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := m.applySettings(ctx, tmp); err != nil {
		return 0, err
	}
	dropTmp := true
	defer func() {
		if dropTmp {
			m.client.DeleteIndexWithContext(context.WithoutCancel(ctx), tmp)
		}
	}()
	// Send every batch first and then wait for the tasks in order:
	// Meilisearch indexes one batch while the next is being read.
	type sent struct {
		uid int64
		n   int
	}
	var tasks []sent
	pk := "id"
	err = EachDocumentBatch(ctx, conn, reindexBatch, func(batch []Document) error {
		info, err := m.client.Index(tmp).AddDocumentsWithContext(ctx, batch, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return fmt.Errorf("meilisearch adding documents to %s: %w", tmp, err)
		}
		tasks = append(tasks, sent{info.TaskUID, len(batch)})
		return nil
	})
	if err != nil {
		return 0, err
	}
	done := 0
	for _, t := range tasks {
		if err := m.wait(ctx, "indexing into "+tmp, &meilisearch.TaskInfo{TaskUID: t.uid}, nil); err != nil {
			return done, err
		}
		done += t.n
		if progress != nil {
			progress(done, total)
		}
	}
	if err := m.ensureIndex(ctx, m.index); err != nil {
		return done, err
	}
	info, err := m.client.SwapIndexesWithContext(ctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{m.index, tmp}}})
	if err := m.wait(ctx, "swapping "+tmp+" into "+m.index, info, err); err != nil {
		return done, err
	}
	// tmp now holds the old documents.
	dropTmp = false
	info, err = m.client.DeleteIndexWithContext(ctx, tmp)
	if err := m.wait(ctx, "deleting the old index", info, err); err != nil {
		return done, err
	}
	return done, nil
}
