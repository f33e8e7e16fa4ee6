package migrations_test

import (
	"context"
	"errors"
	"testing"

	"hansewiki/migrations"
	"hansewiki/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestUpIsIdempotentAndSeeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t) // already migrated from the template
	applied, err := migrations.Up(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second Up applied %v", applied)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var cities, topics int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM cities), (SELECT count(*) FROM topics)`).Scan(&cities, &topics); err != nil {
		t.Fatal(err)
	}
	if cities != 6 || topics < 10 {
		t.Fatalf("seeded %d cities and %d topics, want 6 and at least 10", cities, topics)
	}
}

func TestSchemaAheadIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'future.sql')`, migrations.Latest()+1); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Check(ctx, pool); !errors.Is(err, migrations.ErrSchemaAhead) {
		t.Fatalf("Check = %v, want ErrSchemaAhead", err)
	}
	if _, err := migrations.Up(ctx, pool); !errors.Is(err, migrations.ErrSchemaAhead) {
		t.Fatalf("Up = %v, want ErrSchemaAhead", err)
	}
}

func TestRevisionsAreImmutable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `
		WITH a AS (INSERT INTO articles (city, slug) VALUES ('wismar', 'test') RETURNING id)
		INSERT INTO revisions (article_id, title, body, visibility, author_id, html)
		SELECT a.id, 'Titel', 'Text', 'public', 1, '<p>Text</p>' FROM a`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE revisions SET body = 'anders'`); err == nil {
		t.Fatal("changing a revision's body succeeded")
	}
	if _, err := pool.Exec(ctx, `UPDATE revisions SET html = '<p>neu</p>'`); err != nil {
		t.Fatalf("refreshing the derived rendering failed: %v", err)
	}
	tag, err := pool.Exec(ctx, `DELETE FROM revisions`)
	if err != nil || tag.RowsAffected() != 0 {
		t.Fatalf("deleting revisions: %v, %d rows", err, tag.RowsAffected())
	}
}
