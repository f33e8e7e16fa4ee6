package search

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestPostgresRanksBoundedCandidates proves with the plan PostgreSQL
// executes that a word in every article is not ranked for every match: the
// sort by ts_rank sees at most minCandidates rows while the match count
// covers them all; and that the matches come from the GIN index.
func TestPostgresRanksBoundedCandidates(t *testing.T) {
	t.Parallel()
	const n = 3 * minCandidates
	pool := newTestPool(t)
	bulkPublish(t, pool, generate(n, 7))
	refreshSearchRows(t, pool)
	q, _ := Query{Text: "Ausgangslage"}.normalize() // a heading of every generated article
	plan := planFor(q.Text)
	tq, err := NewPG(pool).tsqueries(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	sql, args := searchSQL(networkAdmin, q, plan, tq)
	var out []byte
	if err := pool.QueryRow(context.Background(), "EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) "+sql, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(out, &plans); err != nil {
		t.Fatal(err)
	}
	var rankedRows, matchRows float64
	var matchScan string
	var walk func(p planNode)
	walk = func(p planNode) {
		for _, k := range p.SortKey {
			if strings.Contains(k, "ts_rank") {
				rankedRows = max(rankedRows, p.ActualRows)
			}
		}
		if p.SubplanName == "CTE matches" {
			matchRows, matchScan = p.ActualRows, p.NodeType
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	if matchRows < n {
		t.Fatalf("the word matched %v articles, want all %d: the test proves nothing", matchRows, n)
	}
	if rankedRows == 0 || rankedRows > minCandidates {
		t.Errorf("ts_rank ordered %v rows of %v matches; want at most %d", rankedRows, matchRows, minCandidates)
	}
	// Even a word in every article is matched through the GIN index: a
	// sequential scan would detoast every tsvector (see searchSQL).
	if matchScan != "Bitmap Heap Scan" {
		t.Errorf("matches are found by a %s, want a Bitmap Heap Scan of the GIN index", matchScan)
	}
}

type planNode struct {
	NodeType    string     `json:"Node Type"`
	SubplanName string     `json:"Subplan Name"`
	ActualRows  float64    `json:"Actual Rows"`
	SortKey     []string   `json:"Sort Key"`
	Plans       []planNode `json:"Plans"`
}
