package workflow

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// NotifyForTest writes notifications of kind about change changeID for
// users, through the recipient layer, in one transaction: how periodic
// work (a reminder) notifies.
func (s *Service) NotifyForTest(ctx context.Context, kind string, changeID int64, users []int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := s.load(ctx, tx, changeID)
		if err != nil {
			return err
		}
		return s.notify(ctx, tx, users, kind, c, "", "")
	})
}
