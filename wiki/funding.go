package wiki

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// FundingProgramme is one entry of the list of funding programmes that
// network admins keep; editors choose from the programmes not retired or
// write another.
type FundingProgramme struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Retired bool   `json:"retired"`
}

// MaxProgrammeRunes bounds a programme's name.
const MaxProgrammeRunes = 200

// FundingProgrammes lists the kept programmes by name; retired ones only
// when withRetired.
func (s *Store) FundingProgrammes(ctx context.Context, withRetired bool) ([]FundingProgramme, error) {
	rows, _ := s.db.Query(ctx, `SELECT id, name, retired FROM funding_programmes
		WHERE $1 OR NOT retired ORDER BY lower(name), id`, withRetired)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[FundingProgramme])
}

func programmeName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if !utf8.ValidString(name) {
		return "", invalid("name", "utf8", "name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxProgrammeRunes {
		return "", invalid("name", "funding.name_length", "the programme's name must have 1 to %d characters", MaxProgrammeRunes)
	}
	return name, nil
}

// AddFundingProgramme adds a programme to the list (audited). A name the
// list already has, in any case, is a conflict.
func (s *Store) AddFundingProgramme(ctx context.Context, name, actor string) (FundingProgramme, error) {
	name, err := programmeName(name)
	if err != nil {
		return FundingProgramme{}, err
	}
	p := FundingProgramme{Name: name}
	err = s.txFunc(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO funding_programmes (name) VALUES ($1) RETURNING id`, name).Scan(&p.ID)
		if pgCode(err) == "23505" {
			return fmt.Errorf("funding programme %q already exists: %w", name, ErrConflict)
		}
		if err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "funding.add", fmt.Sprintf("funding:%d", p.ID), map[string]any{"name": name})
	})
	return p, err
}

// UpdateFundingProgramme renames a programme and retires or reinstates it
// (audited). Articles keep the name they were written with.
func (s *Store) UpdateFundingProgramme(ctx context.Context, id int64, name string, retired bool, actor string) (FundingProgramme, error) {
	name, err := programmeName(name)
	if err != nil {
		return FundingProgramme{}, err
	}
	p := FundingProgramme{ID: id, Name: name, Retired: retired}
	err = s.txFunc(ctx, func(tx pgx.Tx) error {
		var old FundingProgramme
		err := tx.QueryRow(ctx, `SELECT id, name, retired FROM funding_programmes WHERE id = $1 FOR UPDATE`, id).
			Scan(&old.ID, &old.Name, &old.Retired)
		if err != nil {
			return notFound(err, fmt.Sprintf("funding programme %d", id))
		}
		if old == p {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE funding_programmes SET name = $2, retired = $3 WHERE id = $1`, id, name, retired)
		if pgCode(err) == "23505" {
			return fmt.Errorf("funding programme %q already exists: %w", name, ErrConflict)
		}
		if err != nil {
			return err
		}
		detail := map[string]any{"name": name, "retired": retired}
		if old.Name != name {
			detail["previous_name"] = old.Name
		}
		return auditTx(ctx, tx, actor, "funding.update", fmt.Sprintf("funding:%d", id), detail)
	})
	return p, err
}
