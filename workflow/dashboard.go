package workflow

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// DashboardWindow is how far back the dashboard counts decisions.
const DashboardWindow = 90 * 24 * time.Hour

// Dashboard is how review keeps up in the cities an administrator looks
// after: the backlog, how long decisions take, and who carries the load.
type Dashboard struct {
	AsOf      time.Time
	Cities    []CityReview
	Reviewers []ReviewerLoad
}

// CityReview is one city's review figures as of the dashboard's time.
type CityReview struct {
	City string
	// InReview counts the changes waiting for a decision; Oldest is how
	// long the oldest of them has waited (zero without any).
	InReview int
	Oldest   time.Duration
	// Overdue counts the changes in review past their due date.
	Overdue int
	// ArticlesDue counts the published articles whose freshness check is
	// due; ArticlesStale those overdue by more than a month (readers are
	// told, and the freshness page lists them).
	ArticlesDue, ArticlesStale int
	// Decided counts the changes published or rejected within the window;
	// Median is the median time from submission to that decision.
	Decided int
	Median  time.Duration
}

// ReviewerLoad is what one reviewer of a city did and has waiting.
type ReviewerLoad struct {
	City     string
	Username string
	Name     string
	// Reviews counts the decisions they recorded in the window (approvals,
	// change requests, rejections); Waiting counts the changes in review
	// they may decide now and have not.
	Reviews int
	Waiting int
}

// ReviewDashboard reads the dashboard for the cities id administers
// (every city for a network administrator) as of asOf. Anyone else gets
// wiki.ErrForbidden.
func (s *Service) ReviewDashboard(ctx context.Context, id *auth.Identity, asOf time.Time) (*Dashboard, error) {
	scope := s.perm.CitiesWhere(id, auth.ManageCity)
	if len(scope) == 0 {
		return nil, fmt.Errorf("the review dashboard is for city and network administrators: %w", wiki.ErrForbidden)
	}
	all := slices.Contains(scope, auth.AllCities)
	d := &Dashboard{AsOf: asOf}
	var err error
	if d.Cities, err = s.cityReviews(ctx, all, scope, asOf); err != nil {
		return nil, err
	}
	cities := make([]string, len(d.Cities))
	for i, c := range d.Cities {
		cities[i] = c.City
	}
	if d.Reviewers, err = s.reviewerLoad(ctx, cities, asOf.Add(-DashboardWindow)); err != nil {
		return nil, err
	}
	return d, nil
}

// cityReviews reads the review figures of the cities in scope (of every
// city with all) as of asOf: the one definition the dashboard and /metrics
// (Backlog) share.
func (s *Service) cityReviews(ctx context.Context, all bool, scope []string, asOf time.Time) ([]CityReview, error) {
	since := asOf.Add(-DashboardWindow)
	rows, err := s.pool.Query(ctx, `
		SELECT ci.slug,
			count(c.id) FILTER (WHERE c.state = $1),
			coalesce(extract(epoch FROM $3 - min(c.submitted_at) FILTER (WHERE c.state = $1)), 0),
			count(c.id) FILTER (WHERE c.state = $1 AND c.due_at < $3),
			(SELECT count(*) FROM article_freshness f WHERE f.city = ci.slug AND f.due_at < $3),
			(SELECT count(*) FROM article_freshness f WHERE f.city = ci.slug AND f.due_at < $3 - interval '1 month'),
			count(c.id) FILTER (WHERE c.state IN ('published', 'rejected') AND c.closed_at > $4),
			coalesce(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY c.closed_at - c.submitted_at)
				FILTER (WHERE c.state IN ('published', 'rejected') AND c.closed_at > $4 AND c.submitted_at IS NOT NULL)), 0)
		FROM cities ci
		LEFT JOIN articles a ON a.city = ci.slug
		LEFT JOIN change_requests c ON c.article_id = a.id
		WHERE $2 OR ci.slug = ANY($5)
		GROUP BY ci.slug ORDER BY ci.slug`, InReview, all, asOf, since, scope)
	if err != nil {
		return nil, fmt.Errorf("reading review figures: %w", err)
	}
	defer rows.Close()
	var out []CityReview
	for rows.Next() {
		var c CityReview
		var oldest, median float64
		if err := rows.Scan(&c.City, &c.InReview, &oldest, &c.Overdue, &c.ArticlesDue, &c.ArticlesStale, &c.Decided, &median); err != nil {
			return nil, fmt.Errorf("reading review figures: %w", err)
		}
		c.Oldest = max(0, time.Duration(oldest*float64(time.Second)))
		c.Median = time.Duration(median * float64(time.Second))
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading review figures: %w", err)
	}
	return out, nil
}

// reviewerLoad lists, per city, its own reviewers (network-wide reviewers
// only where they reviewed), the decisions each made in the window and the
// changes each may decide now: not their own, and not decided by them on
// the current revision (the four-eyes rule of Review, read in bulk).
func (s *Service) reviewerLoad(ctx context.Context, cities []string, since time.Time) ([]ReviewerLoad, error) {
	type key struct{ city, user string }
	load := map[key]*ReviewerLoad{}
	get := func(city, user string) *ReviewerLoad {
		k := key{city, user}
		if l, ok := load[k]; ok {
			return l
		}
		l := &ReviewerLoad{City: city, Username: user}
		load[k] = l
		return l
	}
	reviewers := map[string][]string{}
	for _, city := range cities {
		for _, h := range s.perm.Holders(auth.ReviewChange, city) {
			reviewers[city] = append(reviewers[city], h.Username)
			if !h.NetworkOnly {
				get(city, h.Username)
			}
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT a.city, u.username, count(*)
		FROM reviews r
		JOIN change_requests c ON c.id = r.change_id
		JOIN articles a ON a.id = c.article_id
		JOIN users u ON u.id = r.reviewer_id
		WHERE a.city = ANY($1) AND r.created_at > $2
		GROUP BY a.city, u.username`, cities, since)
	if err != nil {
		return nil, fmt.Errorf("reading reviewer load: %w", err)
	}
	for rows.Next() {
		var city, user string
		var n int
		if err := rows.Scan(&city, &user, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading reviewer load: %w", err)
		}
		get(city, user).Reviews = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading reviewer load: %w", err)
	}
	rows, err = s.pool.Query(ctx, `
		SELECT a.city, au.username,
			coalesce(array_agg(ru.username) FILTER (WHERE ru.username IS NOT NULL), '{}')
		FROM change_requests c
		JOIN articles a ON a.id = c.article_id
		JOIN users au ON au.id = c.author_id
		LEFT JOIN reviews r ON r.change_id = c.id AND r.revision_id = c.revision_id
		LEFT JOIN users ru ON ru.id = r.reviewer_id
		WHERE c.state = $1 AND a.city = ANY($2)
		GROUP BY c.id, a.city, au.username`, InReview, cities)
	if err != nil {
		return nil, fmt.Errorf("reading reviewer load: %w", err)
	}
	for rows.Next() {
		var city, author string
		var decided []string
		if err := rows.Scan(&city, &author, &decided); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading reviewer load: %w", err)
		}
		for _, user := range reviewers[city] {
			if user == author || slices.Contains(decided, user) {
				continue
			}
			if l, ok := load[key{city, user}]; ok {
				l.Waiting++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading reviewer load: %w", err)
	}
	users := make([]string, 0, len(load))
	for k := range load {
		users = append(users, k.user)
	}
	names, disabled, err := s.displayNames(ctx, users)
	if err != nil {
		return nil, err
	}
	out := make([]ReviewerLoad, 0, len(load))
	for _, l := range load {
		l.Name = names[l.Username]
		// A disabled account decides nothing any more; it stays listed only
		// for the decisions it made in the window.
		if disabled[l.Username] {
			if l.Reviews == 0 {
				continue
			}
			l.Waiting = 0
		}
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].City != out[j].City {
			return out[i].City < out[j].City
		}
		if out[i].Waiting != out[j].Waiting {
			return out[i].Waiting > out[j].Waiting
		}
		return out[i].Username < out[j].Username
	})
	return out, nil
}

// displayNames reads the reviewers' names and which accounts are disabled.
func (s *Service) displayNames(ctx context.Context, users []string) (names map[string]string, disabled map[string]bool, err error) {
	names, disabled = map[string]string{}, map[string]bool{}
	rows, _ := s.pool.Query(ctx, `SELECT username, display_name, disabled FROM users WHERE username = ANY($1)`, users)
	var u, n string
	var off bool
	if _, err := pgx.ForEachRow(rows, []any{&u, &n, &off}, func() error {
		names[u], disabled[u] = n, off
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("reading reviewer names: %w", err)
	}
	return names, disabled, nil
}
