package workflow

import (
	"context"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
)

// WatchCity starts or stops watching a city: what it publishes reaches
// the watcher's weekly digest.
func (s *Service) WatchCity(ctx context.Context, id *auth.Identity, city string, on bool) error {
	if err := member(id); err != nil {
		return err
	}
	if _, err := s.store.City(ctx, city); err != nil {
		return err
	}
	var err error
	if on {
		_, err = s.pool.Exec(ctx, `INSERT INTO city_watches (user_id, city) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id.UserID, city)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM city_watches WHERE user_id = $1 AND city = $2`, id.UserID, city)
	}
	return err
}

// WatchingCity reports whether the user watches the city.
func (s *Service) WatchingCity(ctx context.Context, id *auth.Identity, city string) (bool, error) {
	if id == nil {
		return false, nil
	}
	p, err := s.personal(ctx, id)
	if err != nil {
		return false, err
	}
	return p.cities[city], nil
}

func (s *Service) watchedCities(ctx context.Context, userID int64) (map[string]bool, error) {
	rows, _ := s.pool.Query(ctx, `SELECT city FROM city_watches WHERE user_id = $1`, userID)
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(list))
	for _, c := range list {
		m[c] = true
	}
	return m, nil
}
