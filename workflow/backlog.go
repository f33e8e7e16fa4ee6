package workflow

import (
	"context"
	"fmt"
)

// Backlog is the work waiting on people and on the mailer, for /metrics.
type Backlog struct {
	// InReview counts the changes waiting for a reviewer, by city (every
	// city, zero included, so a city's series does not vanish).
	InReview map[string]int
	// OldestSeconds is how long each city's oldest change in review has
	// waited since submission (0 without any).
	OldestSeconds map[string]float64
	// Overdue counts the changes in review past their due date, by city.
	Overdue map[string]int
	// ArticlesOverdue counts the published articles whose freshness check
	// is due (nobody confirmed them within their review interval), by city.
	ArticlesOverdue map[string]int
	// MailQueued counts the e-mails not sent yet.
	MailQueued int
}

// Backlog reads both counts in one round trip.
func (s *Service) Backlog(ctx context.Context) (Backlog, error) {
	b := Backlog{InReview: map[string]int{}, OldestSeconds: map[string]float64{}, Overdue: map[string]int{}, ArticlesOverdue: map[string]int{}}
	rows, err := s.pool.Query(ctx, `SELECT ci.slug, count(c.id),
			coalesce(extract(epoch FROM now() - min(c.submitted_at)), 0)::float8,
			count(c.id) FILTER (WHERE c.due_at < now()),
			(SELECT count(*) FROM article_freshness f WHERE f.city = ci.slug AND f.due_at < now()),
			(SELECT count(*) FROM mail_queue WHERE sent_at IS NULL)
		FROM cities ci
		LEFT JOIN articles a ON a.city = ci.slug
		LEFT JOIN change_requests c ON c.article_id = a.id AND c.state = $1
		GROUP BY ci.slug`, InReview)
	if err != nil {
		return b, fmt.Errorf("reading the backlog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var city string
		var n int
		var oldest float64
		var overdue, articles int
		if err := rows.Scan(&city, &n, &oldest, &overdue, &articles, &b.MailQueued); err != nil {
			return b, fmt.Errorf("reading the backlog: %w", err)
		}
		b.InReview[city] = n
		b.OldestSeconds[city] = max(0, oldest)
		b.Overdue[city] = overdue
		b.ArticlesOverdue[city] = articles
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("reading the backlog: %w", err)
	}
	return b, nil
}
