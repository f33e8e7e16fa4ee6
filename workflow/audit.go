package workflow

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AuditEvent is one entry of the append-only, hash-chained audit log.
type AuditEvent struct {
	Seq        int64          `json:"seq"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	Object     string         `json:"object"`
	Detail     map[string]any `json:"detail"`
	ClientAddr string         `json:"client_addr"`
	Hash       string         `json:"hash"`
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	Object, Actor, Action string
	// Cities restricts to events about these cities' articles and changes
	// (nil: all). City admins see their cities' events.
	Cities []string
	// Since and Until bound the time of the events (zero: unbounded).
	Since, Until time.Time
	Before       int64 // chain position to page backwards from (0: newest)
	Limit        int
}

// Audit lists events, newest first.
func Audit(ctx context.Context, pool *pgxpool.Pool, f AuditFilter) ([]AuditEvent, error) {
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{"true"}
	if f.Object != "" {
		where = append(where, "e.object = "+arg(f.Object))
	}
	if f.Actor != "" {
		where = append(where, "e.actor = "+arg(f.Actor))
	}
	if f.Action != "" {
		where = append(where, "e.action LIKE "+arg(strings.ReplaceAll(f.Action, "%", "")+"%"))
	}
	if f.Cities != nil {
		// Scoped by the objects themselves, never by how their names look: a
		// user named like a city, or a failed sign-in as "luebeck/x", is no
		// event of that city. The city's changes and articles (found by
		// joining their tables), the city itself, and the roles granted in it.
		c := arg(f.Cities)
		where = append(where, `(e.object IN (
				SELECT 'change:' || cr.id FROM change_requests cr JOIN articles a ON a.id = cr.article_id WHERE a.city = ANY(`+c+`)
				UNION ALL SELECT 'article:' || a.city || '/' || a.slug FROM articles a WHERE a.city = ANY(`+c+`)
				UNION ALL SELECT 'city:' || ci.slug FROM cities ci WHERE ci.slug = ANY(`+c+`))
			OR e.action IN ('role.grant', 'role.revoke', 'role.end', 'absence.add', 'absence.delete') AND e.detail->>'city' = ANY(`+c+`))`)
	}
	if !f.Since.IsZero() {
		where = append(where, "e.at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "e.at < "+arg(f.Until))
	}
	if f.Before > 0 {
		where = append(where, "e.chain_seq < "+arg(f.Before))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	rows, _ := pool.Query(ctx, `SELECT e.chain_seq, e.at, e.actor, e.action, e.object, e.detail, e.client_addr, encode(e.hash, 'hex')
		FROM audit_events e WHERE `+strings.Join(where, " AND ")+` ORDER BY e.chain_seq DESC LIMIT `+arg(f.Limit), args...)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[AuditEvent])
}

// WriteAuditCSV writes events as CSV (UTF-8 with BOM, so spreadsheet
// programs used in administrations open umlauts correctly).
func WriteAuditCSV(w io.Writer, events []AuditEvent) error {
	if _, err := w.Write([]byte("\ufeff")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "at", "actor", "action", "object", "detail", "client_addr", "hash"})
	for _, e := range events {
		cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), csvSafe(e.Actor), csvSafe(e.Action),
			csvSafe(e.Object), csvSafe(detailText(e.Detail)), csvSafe(e.ClientAddr), e.Hash})
	}
	cw.Flush()
	return cw.Error()
}

// detailText renders an event's detail as "key=value; ..." in key order,
// so two exports of the same events are identical. Numbers keep their
// digits (a revision id of 1234567 is not "1.234567e+06").
func detailText(detail map[string]any) string {
	parts := make([]string, 0, len(detail))
	for _, k := range slices.Sorted(maps.Keys(detail)) {
		v, ok := detail[k].(string)
		if !ok {
			b, _ := json.Marshal(detail[k])
			v = string(b)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

// csvSafe defuses cells a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// VerifyResult reports a check of the audit chain.
type VerifyResult struct {
	Events int64
	// FirstBad is the chain position of the first event whose hash or link
	// does not match (0: the chain is intact).
	FirstBad int64
	Reason   string
}

// VerifyAudit recomputes every event's hash from its content and the
// previous event's hash, and checks the chain has no gaps.
func VerifyAudit(ctx context.Context, pool *pgxpool.Pool, progress func(done, total int64)) (VerifyResult, error) {
	var res VerifyResult
	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&total); err != nil {
		return res, err
	}
	rows, _ := pool.Query(ctx, `SELECT chain_seq, prev_hash, hash,
			audit_event_digest(lag(hash) OVER w, chain_seq, at, actor, action, object, detail, client_addr) = hash,
			prev_hash IS NOT DISTINCT FROM lag(hash) OVER w,
			chain_seq = row_number() OVER w
		FROM audit_events WINDOW w AS (ORDER BY chain_seq) ORDER BY chain_seq`)
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var prev, hash []byte
		var hashOK, linkOK, seqOK bool
		if err := rows.Scan(&seq, &prev, &hash, &hashOK, &linkOK, &seqOK); err != nil {
			return res, err
		}
		res.Events++
		if res.FirstBad == 0 {
			switch {
			case !seqOK:
				res.FirstBad, res.Reason = seq, "an event is missing before this one"
			case !linkOK:
				res.FirstBad, res.Reason = seq, "the link to the previous event does not match"
			case !hashOK:
				res.FirstBad, res.Reason = seq, "the content does not match its hash"
			}
		}
		if progress != nil && res.Events%1000 == 0 {
			progress(res.Events, total)
		}
	}
	if progress != nil {
		progress(res.Events, total)
	}
	return res, rows.Err()
}

const auditInsert = `INSERT INTO audit_events (actor, action, object, detail, client_addr) VALUES ($1, $2, $3, $4, $5)`

// auditedTx holds a transition's audit events until just before COMMIT.
// The chain trigger lets one transaction at a time write events, from its
// first event until it commits; writing them last keeps that critical
// section to the INSERTs and the COMMIT instead of the whole transition
// (rendering, publishing, search refresh, notifications).
type auditedTx struct {
	pgx.Tx
	events []pendingEvent
}

type pendingEvent struct {
	actor, action, object string
	detail                []byte
	addr                  string
}

// inTx runs fn in one transaction and writes its audit events, in order,
// as the transaction's last statements.
func (s *Service) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		at := &auditedTx{Tx: tx}
		if err := fn(at); err != nil {
			return err
		}
		if len(at.events) == 0 {
			return nil
		}
		batch := &pgx.Batch{}
		for _, e := range at.events {
			batch.Queue(auditInsert, e.actor, e.action, e.object, e.detail, e.addr)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
}
