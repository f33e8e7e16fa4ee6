package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Absence and deputies (issue 14). A reviewer records an absence: from a
// day to a day, in one of the cities where they review, with a deputy who
// reviews in that city too. While it lasts — as of the moment a
// notification is written (a job's as-of time, else now) — every
// notification about that city that reaches the absent person also
// reaches the deputy (in-app and by mail, marked as standing in), and
// reminders reach the deputy instead of them. The deputy is told only what
// the visibility rule lets them read, like every recipient.

// Absence is a recorded absence.
type Absence struct {
	ID   int64  `json:"id"`
	City string `json:"city"`
	// From and To are the first and last day (YYYY-MM-DD, Europe/Berlin).
	From string `json:"from"`
	To   string `json:"to"`
	// Start and End are From and To as times, for pages.
	Start      time.Time `json:"-"`
	End        time.Time `json:"-"`
	User       string    `json:"user"`
	UserName   string    `json:"user_name"`
	Deputy     string    `json:"deputy"`
	DeputyName string    `json:"deputy_name"`
	// Current: the absence includes today.
	Current bool `json:"current"`
}

// AbsenceInput is what recording an absence takes. City may be empty for
// someone who reviews in one city only.
type AbsenceInput struct {
	City   string `json:"city"`
	From   string `json:"from"`
	To     string `json:"to"`
	Deputy string `json:"deputy"`
}

// Absences lists the user's own absences that have not ended yet, and
// those in which the user stands in for someone.
func (s *Service) Absences(ctx context.Context, id *auth.Identity) (own, standingIn []Absence, err error) {
	today := auth.Day(notifyTime(ctx))
	rows, _ := s.pool.Query(ctx, `SELECT a.id, a.city, a.starts_on, a.ends_on, u.username, u.display_name, d.username, d.display_name, a.user_id = $1
		FROM absences a JOIN users u ON u.id = a.user_id JOIN users d ON d.id = a.deputy_id
		WHERE (a.user_id = $1 OR a.deputy_id = $1) AND a.ends_on >= $2
		ORDER BY a.starts_on, a.id`, id.UserID, today)
	var a Absence
	var from, to time.Time
	var mine bool
	_, err = pgx.ForEachRow(rows, []any{&a.ID, &a.City, &from, &to, &a.User, &a.UserName, &a.Deputy, &a.DeputyName, &mine}, func() error {
		a.From, a.To, a.Start, a.End = from.Format(time.DateOnly), to.Format(time.DateOnly), from, to
		a.Current = !from.After(today) && !to.Before(today)
		if mine {
			own = append(own, a)
		} else {
			standingIn = append(standingIn, a)
		}
		return nil
	})
	return own, standingIn, err
}

// AbsenceCities are the cities in which id may record an absence: where
// they review (every city for a network-wide reviewer).
func (s *Service) AbsenceCities(ctx context.Context, id *auth.Identity) ([]string, error) {
	cities := s.perm.CitiesWhere(id, auth.ReviewChange)
	if len(cities) == 1 && cities[0] == auth.AllCities {
		all, err := s.store.Cities(ctx)
		if err != nil {
			return nil, err
		}
		cities = cities[:0]
		for _, c := range all {
			cities = append(cities, c.Slug)
		}
	}
	return cities, nil
}

// maxAbsenceDays bounds one absence; a longer one is a change of roles.
const maxAbsenceDays = 366

// AddAbsence records an absence of the acting reviewer, audited.
func (s *Service) AddAbsence(ctx context.Context, m Meta, in AbsenceInput) (*Absence, error) {
	id := m.Identity
	cities, err := s.AbsenceCities(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(cities) == 0 {
		return nil, fmt.Errorf("only reviewers record absences: %w", wiki.ErrForbidden)
	}
	from, err := parseAbsenceDay("from", in.From)
	if err != nil {
		return nil, err
	}
	to, err := parseAbsenceDay("to", in.To)
	if err != nil {
		return nil, err
	}
	switch {
	case to.Before(from):
		return nil, &wiki.InvalidError{Field: "to", Key: "absence.order", Message: "an absence ends on or after the day it begins"}
	case to.Before(auth.Day(notifyTime(ctx))):
		return nil, &wiki.InvalidError{Field: "to", Key: "absence.past", Message: "an absence that has ended already cannot be recorded"}
	case to.Sub(from) >= maxAbsenceDays*24*time.Hour:
		return nil, &wiki.InvalidError{Field: "to", Key: "absence.too_long", Message: "an absence lasts at most 366 days"}
	}
	city := in.City
	if city == "" && len(cities) == 1 {
		city = cities[0]
	}
	if !containsString(cities, city) {
		return nil, &wiki.InvalidError{Field: "city", Key: "absence.city", Message: "choose a city in which you review"}
	}
	deputyName := auth.NormalizeUsername(in.Deputy)
	if deputyName == "" {
		return nil, &wiki.InvalidError{Field: "deputy", Key: "absence.deputy_missing", Message: "name a deputy"}
	}
	if deputyName == id.Username {
		return nil, &wiki.InvalidError{Field: "deputy", Key: "absence.deputy_self", Message: "you cannot be your own deputy"}
	}
	var deputyID int64
	err = s.pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1 AND NOT disabled`, deputyName).Scan(&deputyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &wiki.InvalidError{Field: "deputy", Key: "absence.deputy_unknown", Message: "there is no active account " + deputyName}
	}
	if err != nil {
		return nil, err
	}
	deputy, err := s.perm.IdentityByID(ctx, deputyID)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return nil, &wiki.InvalidError{Field: "deputy", Key: "absence.deputy_unknown", Message: "there is no active account " + deputyName}
	}
	if err != nil {
		return nil, err
	}
	if !s.perm.Can(deputy, auth.ReviewChange, city) {
		return nil, &wiki.InvalidError{Field: "deputy", Key: "absence.deputy_not_reviewer", Message: "the deputy must be a reviewer of " + city}
	}
	var absenceID int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// One deputy per day and city: a new absence may not overlap one
		// recorded already. (The row lock orders concurrent recordings.)
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id.UserID); err != nil {
			return err
		}
		var overlap bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM absences WHERE user_id = $1 AND city = $2
			AND starts_on <= $4 AND ends_on >= $3)`, id.UserID, city, from, to).Scan(&overlap); err != nil {
			return err
		}
		if overlap {
			return &wiki.InvalidError{Field: "from", Key: "absence.overlap", Message: "this absence overlaps one recorded already"}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO absences (user_id, city, deputy_id, starts_on, ends_on) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			id.UserID, city, deputyID, from, to).Scan(&absenceID); err != nil {
			return err
		}
		return s.auditObject(ctx, tx, m, "absence.add", "user:"+id.Username, map[string]any{"absence": absenceID, "city": city,
			"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "deputy": deputyName})
	})
	if err != nil {
		return nil, err
	}
	own, _, err := s.Absences(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := range own {
		if own[i].ID == absenceID {
			return &own[i], nil
		}
	}
	return &Absence{ID: absenceID, City: city, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), User: id.Username, Deputy: deputyName}, nil
}

// DeleteAbsence removes one of the acting user's absences (ending it now),
// audited. Someone else's absence is not found.
func (s *Service) DeleteAbsence(ctx context.Context, m Meta, absenceID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var city, deputy string
		var from, to time.Time
		err := tx.QueryRow(ctx, `DELETE FROM absences a USING users d WHERE a.id = $1 AND a.user_id = $2 AND d.id = a.deputy_id
			RETURNING a.city, a.starts_on, a.ends_on, d.username`, absenceID, m.Identity.UserID).Scan(&city, &from, &to, &deputy)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("absence %d: %w", absenceID, wiki.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.auditObject(ctx, tx, m, "absence.delete", "user:"+m.Identity.Username, map[string]any{"absence": absenceID, "city": city,
			"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "deputy": deputy})
	})
}

func parseAbsenceDay(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, &wiki.InvalidError{Field: field, Key: "absence.date", Message: "a day is written YYYY-MM-DD"}
	}
	return t, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The recipient layer. Every notification passes its recipients through
// addressees before writing anything, so each kind — present and future —
// honours absences the same way.

// reminderKinds are the notification kinds that remind someone of work
// waiting for them. An absent recipient is not sent them; their deputy is,
// instead. Every other kind reaches the absent person and, besides, the
// deputy. A kind whose name ends in ".reminder" counts as well.
var reminderKinds = map[string]bool{
	"change.reminder": true,
}

// IsReminder reports whether notifications of kind remind of waiting work
// (see reminderKinds).
func IsReminder(kind string) bool {
	return reminderKinds[kind] || strings.HasSuffix(kind, ".reminder")
}

// addressee is one recipient of a notification: the person it is for, or
// a deputy standing in for an absent person (deputyFor, by id and name).
type addressee struct {
	user          int64
	deputyFor     int64
	deputyForName string
}

// addressees applies absences to a notification's recipients. city is the
// city of the article it is about ("": not about one city's article, any
// absence counts). Deputies are never the actor (by user name) nor anyone
// in skip (a change's author, who hears about their own change anyway),
// and must still review in the absence's city. Each person is addressed
// once, first as themselves.
func (s *Service) addressees(ctx context.Context, q querier, userIDs []int64, city, kind, actor string, skip ...int64) ([]addressee, error) {
	out := make([]addressee, 0, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	type stand struct {
		absent, deputy int64
		absentName     string
		city           string
	}
	rows, _ := q.Query(ctx, `SELECT a.user_id, a.deputy_id, coalesce(nullif(u.display_name, ''), u.username), a.city
		FROM absences a JOIN users u ON u.id = a.user_id JOIN users d ON d.id = a.deputy_id
		WHERE a.user_id = ANY($1) AND ($2 = '' OR a.city = $2) AND a.starts_on <= $3 AND a.ends_on >= $3
			AND NOT d.disabled AND d.username <> $4
		ORDER BY a.id`, userIDs, city, auth.Day(notifyTime(ctx)), actor)
	var stands []stand
	var st stand
	if _, err := pgx.ForEachRow(rows, []any{&st.absent, &st.deputy, &st.absentName, &st.city}, func() error {
		stands = append(stands, st)
		return nil
	}); err != nil {
		return nil, err
	}
	absent := map[int64]bool{}
	for _, st := range stands {
		absent[st.absent] = true
	}
	reminder := IsReminder(kind)
	seen := map[int64]bool{}
	for _, u := range userIDs {
		if seen[u] || reminder && absent[u] {
			continue
		}
		seen[u] = true
		out = append(out, addressee{user: u})
	}
	for _, st := range stands {
		if seen[st.deputy] || containsInt(skip, st.deputy) {
			continue
		}
		// The deputy stands in as a reviewer of the city: one who is no
		// longer one (a role revoked or ended since) is not told.
		id, err := s.perm.IdentityByID(ctx, st.deputy)
		if errors.Is(err, auth.ErrUnauthenticated) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !s.perm.Can(id, auth.ReviewChange, st.city) {
			continue
		}
		seen[st.deputy] = true
		out = append(out, addressee{user: st.deputy, deputyFor: st.absent, deputyForName: st.absentName})
	}
	return out, nil
}

func containsInt(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// deputyMailNote opens a mail that reached a deputy.
func deputyMailNote(name string) string {
	return fmt.Sprintf("Sie erhalten diese Nachricht als Vertretung für %s (abwesend).\nYou receive this message as the deputy of %s (absent).\n\n", name, name)
}

// asOfKey carries the moment a job evaluates its deadlines as of.
type asOfKey struct{}

// WithAsOf makes t the moment notifications written under ctx are
// evaluated at (who is absent): RunJobs sets a job's as-of time.
func WithAsOf(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, asOfKey{}, t)
}

// notifyTime is the moment of ctx: a job's as-of time, else now.
func notifyTime(ctx context.Context) time.Time {
	if t, ok := ctx.Value(asOfKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

// registerAbsenceJobs adds the periodic work of this file: roles granted
// until a date end after it (auth does it, audited; see auth.EndRoles).
func (s *Service) registerAbsenceJobs() {
	ender, ok := s.perm.(interface {
		EndRoles(ctx context.Context, asOf time.Time) (int, error)
	})
	if !ok {
		return
	}
	s.RegisterJob("roles.end", ender.EndRoles)
}
