package wiki

import (
	"context"

	"github.com/jackc/pgx/v5"

	"hansewiki/wiki/markdown"
)

// PreviewMany renders several bodies as Preview does, for an article of
// city with visibility vis and reader, in one read-only transaction: the
// comments below an article (workflow.Service.ArticleComments).
func (s *Store) PreviewMany(ctx context.Context, reader Reader, city string, vis Visibility, bodies []string) ([]markdown.Result, error) {
	if !vis.Valid() {
		vis = Public
	}
	audience := Audience(city, vis).Intersect(reader)
	out := make([]markdown.Result, len(bodies))
	if len(bodies) == 0 {
		return out, nil
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for i, b := range bodies {
			if err := checkBodySize(b); err != nil {
				return err
			}
			res, err := s.render(ctx, tx, city, audience, b)
			if err != nil {
				return err
			}
			out[i] = res
		}
		return nil
	})
	return out, err
}
