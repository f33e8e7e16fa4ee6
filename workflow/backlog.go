package workflow

import (
	"context"
	"fmt"
	"time"
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

// Backlog reads the cities' review figures as the dashboard counts them
// (cityReviews), as of now, and the mail queue.
func (s *Service) Backlog(ctx context.Context) (Backlog, error) {
	b := Backlog{InReview: map[string]int{}, OldestSeconds: map[string]float64{}, Overdue: map[string]int{}, ArticlesOverdue: map[string]int{}}
	cities, err := s.cityReviews(ctx, true, nil, time.Now())
	if err != nil {
		return b, fmt.Errorf("reading the backlog: %w", err)
	}
	for _, c := range cities {
		b.InReview[c.City] = c.InReview
		b.OldestSeconds[c.City] = c.Oldest.Seconds()
		b.Overdue[c.City] = c.Overdue
		b.ArticlesOverdue[c.City] = c.ArticlesDue
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM mail_queue WHERE sent_at IS NULL`).Scan(&b.MailQueued); err != nil {
		return b, fmt.Errorf("reading the mail queue: %w", err)
	}
	return b, nil
}
