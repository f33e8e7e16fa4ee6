package workflow

import (
	"context"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
)

// WatchTopic starts or stops watching a topic: its new questions reach
// the watcher, and its publications the watcher's weekly digest.
func (s *Service) WatchTopic(ctx context.Context, id *auth.Identity, topic string, on bool) error {
	if err := member(id); err != nil {
		return err
	}
	if _, err := s.store.Topic(ctx, topic); err != nil {
		return err
	}
	return s.setWatch(ctx, `INSERT INTO topic_watches (user_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		`DELETE FROM topic_watches WHERE user_id = $1 AND topic = $2`, id.UserID, topic, on)
}

// WatchCity starts or stops watching a city: what it publishes reaches
// the watcher's weekly digest.
func (s *Service) WatchCity(ctx context.Context, id *auth.Identity, city string, on bool) error {
	if err := member(id); err != nil {
		return err
	}
	if _, err := s.store.City(ctx, city); err != nil {
		return err
	}
	return s.setWatch(ctx, `INSERT INTO city_watches (user_id, city) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		`DELETE FROM city_watches WHERE user_id = $1 AND city = $2`, id.UserID, city, on)
}

func (s *Service) setWatch(ctx context.Context, add, remove string, userID int64, key string, on bool) error {
	sql := remove
	if on {
		sql = add
	}
	_, err := s.pool.Exec(ctx, sql, userID, key)
	return err
}

// WatchingTopic reports whether the user watches the topic.
func (s *Service) WatchingTopic(ctx context.Context, id *auth.Identity, topic string) (bool, error) {
	if id == nil {
		return false, nil
	}
	p, err := s.personal(ctx, id)
	if err != nil {
		return false, err
	}
	return p.topics[topic], nil
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

// watchedTopicsAndCities reads both watch lists of the user's personal
// state in one round trip.
func (s *Service) watchedTopicsAndCities(ctx context.Context, userID int64) (topics, cities map[string]bool, err error) {
	rows, _ := s.pool.Query(ctx, `SELECT false, topic FROM topic_watches WHERE user_id = $1
		UNION ALL SELECT true, city FROM city_watches WHERE user_id = $1`, userID)
	topics, cities = map[string]bool{}, map[string]bool{}
	var isCity bool
	var key string
	_, err = pgx.ForEachRow(rows, []any{&isCity, &key}, func() error {
		if isCity {
			cities[key] = true
		} else {
			topics[key] = true
		}
		return nil
	})
	return topics, cities, err
}
