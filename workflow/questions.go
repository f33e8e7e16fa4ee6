package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Questions across cities ("Wer hat Erfahrung mit …?", issue 13). They are
// network-visible: every member reads them, anonymous visitors none. An
// answer's article links are shown only to readers who may read them.

// Limits of a question and an answer, in bytes of Markdown.
const (
	MaxQuestionTitle = 200
	MaxQuestionBody  = 20000
	MaxAnswerBody    = 20000
	maxAnswerLinks   = 20
)

// Question is one question with its answers.
type Question struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Topics    []string  `json:"topics"`
	Cities    []string  `json:"cities"`
	Author    string    `json:"author"`
	AuthorID  int64     `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	Answers   []Answer  `json:"answers"`
	// Open: not closed, and no answer is marked helpful yet.
	Open bool `json:"open"`
	// Closed: the asker or a moderator closed it (resolved).
	Closed bool `json:"closed"`
	// Edited: the asker changed it after asking.
	Edited bool `json:"edited"`
	// Can is what the reader may do with it (see QuestionCapabilities);
	// set for a single question, not in lists.
	Can *QuestionCaps `json:"can,omitempty"`
}

// Answer is a member's answer to a question.
type Answer struct {
	ID       int64     `json:"id"`
	Author   string    `json:"author"`
	Body     string    `json:"body"`
	Articles []string  `json:"articles"`
	Helpful  bool      `json:"helpful"`
	Created  time.Time `json:"created_at"`
	Edited   bool      `json:"edited"`
	// Can is what the reader may do with it (see QuestionCapabilities).
	Can AnswerCaps `json:"can"`
	// AuthorID is the writer's account.
	AuthorID int64 `json:"-"`
	// Links are the linked articles the reader may read, with titles.
	Links []AnswerLink `json:"-"`
}

// AnswerLink is a linked article the reader may read.
type AnswerLink struct {
	City, Slug, Title string
}

// QuestionFilter narrows the list of questions.
type QuestionFilter struct {
	Topic, City string
	// Text finds questions whose title, text or an answer has its words,
	// German full-text search as for articles.
	Text     string
	OpenOnly bool
	Limit    int
}

// NewQuestion is what a member asks.
type NewQuestion struct {
	Title, Body    string
	Topics, Cities []string
}

func member(id *auth.Identity) error {
	if id == nil {
		return auth.ErrUnauthenticated
	}
	return nil
}

func tooLong(field string, n int) *wiki.InvalidError {
	return &wiki.InvalidError{Field: field, Key: "question.length", Args: []any{n}, Message: fmt.Sprintf("%s is longer than %d bytes", field, n), TooLarge: true}
}

// Ask records a question and notifies the authors and reviewers of the
// cities it asks (of every city when it names none) and the watchers of its
// topics, in one transaction.
func (s *Service) Ask(ctx context.Context, m Meta, q NewQuestion) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	q, err := checkQuestion(q)
	if err != nil {
		return nil, err
	}
	var out *Question
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkQuestionRefs(ctx, tx, q); err != nil {
			return err
		}
		var qid int64
		if err := tx.QueryRow(ctx, `INSERT INTO questions (author_id, title, body, topics, cities) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			m.Identity.UserID, q.Title, q.Body, q.Topics, q.Cities).Scan(&qid); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "question.create", fmt.Sprintf("question:%d", qid),
			map[string]any{"topics": q.Topics, "cities": q.Cities}); err != nil {
			return err
		}
		to, err := s.questionRecipients(ctx, tx, q.Topics, q.Cities, m.Identity.UserID)
		if err != nil {
			return err
		}
		if err := s.notifyQuestion(ctx, tx, to, "question.created", qid, q.Title, m.Identity.Username); err != nil {
			return err
		}
		if err := s.questionWebhook(ctx, tx, qid, q, m.Identity.Username); err != nil {
			return err
		}
		if err := questionsChanged(ctx, tx); err != nil {
			return err
		}
		out, err = questionByID(ctx, tx, qid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, out.ID)
}

// checkQuestion checks and tidies what a member asks (or edits).
func checkQuestion(q NewQuestion) (NewQuestion, error) {
	q.Title = strings.TrimSpace(q.Title)
	switch {
	case q.Title == "":
		return q, &wiki.InvalidError{Field: "title", Key: "title.missing", Message: "title is required"}
	case len(q.Title) > MaxQuestionTitle:
		return q, tooLong("title", MaxQuestionTitle)
	case len(q.Body) > MaxQuestionBody:
		return q, tooLong("body", MaxQuestionBody)
	case !utf8.ValidString(q.Title) || !utf8.ValidString(q.Body) || strings.ContainsRune(q.Title+q.Body, 0):
		return q, &wiki.InvalidError{Field: "body", Key: "utf8", Message: "text is not valid UTF-8"}
	case len(q.Topics) == 0:
		return q, &wiki.InvalidError{Field: "topics", Key: "question.topics", Message: "at least one topic is required"}
	}
	q.Topics, q.Cities = compact(q.Topics), compact(q.Cities)
	return q, nil
}

// checkQuestionRefs checks that the question's topics and cities exist.
func checkQuestionRefs(ctx context.Context, tx pgx.Tx, q NewQuestion) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM topics WHERE slug = ANY($1)`, q.Topics).Scan(&n); err != nil {
		return err
	}
	if n != len(q.Topics) {
		return &wiki.InvalidError{Field: "topics", Key: "topics.unknown", Message: "unknown topic"}
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM cities WHERE slug = ANY($1)`, q.Cities).Scan(&n); err != nil {
		return err
	}
	if n != len(q.Cities) {
		return &wiki.InvalidError{Field: "cities", Key: "city.unknown", Message: "unknown city"}
	}
	return nil
}

func compact(list []string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// questionRecipients are the authors and reviewers of the cities asked
// (every city when none is named) and the watchers of the topics, enabled
// accounts other than the asker.
func (s *Service) questionRecipients(ctx context.Context, tx pgx.Tx, topics, cities []string, asker int64) ([]int64, error) {
	if len(cities) == 0 {
		rows, _ := tx.Query(ctx, `SELECT slug FROM cities ORDER BY slug`)
		all, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		cities = all
	}
	var names []string
	for _, c := range cities {
		for _, a := range []auth.Action{auth.CreateArticle, auth.ReviewChange} {
			for _, h := range s.perm.Holders(a, c) {
				// Network admins hold every action everywhere; they are
				// asked only when they hold a role in the city itself.
				if !h.NetworkOnly {
					names = append(names, h.Username)
				}
			}
		}
	}
	to, err := activeUsers(ctx, tx, names, asker)
	if err != nil {
		return nil, err
	}
	rows, _ := tx.Query(ctx, `SELECT DISTINCT w.user_id FROM topic_watches w JOIN users u ON u.id = w.user_id
		WHERE w.topic = ANY($1) AND NOT u.disabled AND u.id <> $2`, topics, asker)
	watchers, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	to = append(to, watchers...)
	slices.Sort(to)
	return slices.Compact(to), nil
}

// notifyQuestion writes the in-app notifications and queues mail, as
// notify does for changes. Questions are network-visible: every member may
// be told.
func (s *Service) notifyQuestion(ctx context.Context, tx pgx.Tx, userIDs []int64, kind string, qid int64, title, actor string) error {
	// Absences: deputies are told too (a question spans cities: any
	// absence counts).
	to, err := s.addressees(ctx, tx, userIDs, "", kind, actor)
	if err != nil {
		return err
	}
	for _, ad := range to {
		uid := ad.user
		var nid int64
		var email string
		err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, question_id, actor, deputy_for) VALUES ($1, $2, $3, $4, $5)
			RETURNING id, (SELECT email FROM users WHERE id = $1)`, uid, kind, qid, actor, nullable(ad.deputyFor)).Scan(&nid, &email)
		if err != nil {
			return err
		}
		if s.Mail == nil || email == "" {
			continue
		}
		subject, body := s.Mail.composeQuestion(kind, qid, title, actor)
		if ad.deputyFor != 0 {
			body = deputyMailNote(ad.deputyForName) + body
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mail_queue (to_addr, subject, body, message_id, user_id)
			VALUES ($1, $2, $3, $4, $5)`, email, subject, body, fmt.Sprintf("<notification-%d@%s>", nid, s.Mail.hostname()), uid); err != nil {
			return err
		}
	}
	if s.Mail != nil && len(to) > 0 {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, MailChannel)
		return err
	}
	return nil
}

// openQuestion is true of a question q that is neither closed nor has a
// (shown) answer marked helpful: it is listed as open.
const openQuestion = `(q.closed_at IS NULL AND NOT EXISTS (SELECT 1 FROM question_answers h
	WHERE h.question_id = q.id AND h.helpful AND h.hidden_at IS NULL))`

const questionColumns = `q.id, q.title, q.body, q.topics, q.cities, u.username, q.author_id, q.created_at,
	` + openQuestion + `, q.closed_at IS NOT NULL, q.edited_at IS NOT NULL`

func scanQuestion(row pgx.CollectableRow) (*Question, error) {
	q := &Question{}
	err := row.Scan(&q.ID, &q.Title, &q.Body, &q.Topics, &q.Cities, &q.Author, &q.AuthorID, &q.CreatedAt, &q.Open, &q.Closed, &q.Edited)
	return q, err
}

// questionByID reads a question that is not hidden; in a transaction it
// locks its row, so edits, answers and closing happen one at a time.
func questionByID(ctx context.Context, db querier, qid int64) (*Question, error) {
	lock := ""
	if _, ok := db.(pgx.Tx); ok {
		lock = " FOR UPDATE OF q"
	}
	rows, _ := db.Query(ctx, `SELECT `+questionColumns+` FROM questions q JOIN users u ON u.id = q.author_id
		WHERE q.id = $1 AND q.hidden_at IS NULL`+lock, qid)
	q, err := pgx.CollectExactlyOneRow(rows, scanQuestion)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, wiki.ErrNotFound
	}
	return q, err
}

// Question returns a question with its answers for a member.
func (s *Service) Question(ctx context.Context, id *auth.Identity, qid int64) (*Question, error) {
	if err := member(id); err != nil {
		return nil, wiki.ErrNotFound
	}
	q, err := questionByID(ctx, s.pool, qid)
	if err != nil {
		return nil, err
	}
	if err := s.questionAnswers(ctx, id, q); err != nil {
		return nil, err
	}
	s.questionCaps(id, q)
	return q, nil
}

// Questions lists questions, newest first, for a member.
func (s *Service) Questions(ctx context.Context, id *auth.Identity, f QuestionFilter) ([]*Question, error) {
	if err := member(id); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 200
	}
	// Text is matched by German full-text search (migration 0019) on the
	// title and text of the question and on each answer: all its words in
	// the question or in one answer. The tsquery is hidden from the planner
	// (a sub-select), which then always takes the GIN indexes: with the
	// value in view it prices a scan of every tsvector too low for a common
	// word (65 ms against 15 ms on 5,000 questions with 10,000 answers).
	// Umlauts typed as ae/oe/ue also match: the index is unaccented
	// ("Lastenrädern" as "lastenradern"), so the text is tried with them
	// as a, o, u too.
	text := ""
	args := []any{f.Topic, f.City, f.OpenOnly, f.Limit}
	if r := []rune(strings.TrimSpace(f.Text)); len(r) > wiki.MaxQueryRunes {
		f.Text = string(r[:wiki.MaxQueryRunes])
	}
	if f.Text = strings.TrimSpace(f.Text); f.Text != "" {
		tq := `(SELECT plainto_tsquery('hansewiki_german', hansewiki_ts_text($5)) || plainto_tsquery('hansewiki_german', hansewiki_ts_text($6)))`
		text = ` AND q.id IN (
			SELECT id FROM questions WHERE tsv @@ ` + tq + `
			UNION SELECT question_id FROM question_answers WHERE tsv @@ ` + tq + ` AND hidden_at IS NULL)`
		args = append(args, f.Text, umlautsTyped.Replace(strings.ToLower(f.Text)))
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+questionColumns+` FROM questions q JOIN users u ON u.id = q.author_id
		WHERE q.hidden_at IS NULL
		  AND ($1 = '' OR $1 = ANY(q.topics))
		  AND ($2 = '' OR $2 = ANY(q.cities) OR q.cities = '{}')
		  AND (NOT $3 OR `+openQuestion+`)`+text+`
		ORDER BY q.id DESC LIMIT $4`, args...)
	list, err := pgx.CollectRows(rows, scanQuestion)
	if err != nil {
		return nil, err
	}
	for _, q := range list {
		q.Answers = []Answer{}
	}
	return list, nil
}

// umlautsTyped reads ae, oe and ue as the umlauts they may stand for.
var umlautsTyped = strings.NewReplacer("ae", "a", "oe", "o", "ue", "u")

// questionAnswers loads q's answers; each answer's articles are those the
// reader may read now, the others are left out (never named, never titled).
func (s *Service) questionAnswers(ctx context.Context, id *auth.Identity, q *Question) error {
	reader := s.Reader(id)
	rows, _ := s.pool.Query(ctx, `SELECT a.id, u.username, a.author_id, a.body, a.helpful, a.created_at, a.edited_at IS NOT NULL
		FROM question_answers a JOIN users u ON u.id = a.author_id
		WHERE a.question_id = $1 AND a.hidden_at IS NULL ORDER BY a.id`, q.ID)
	answers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Answer, error) {
		var a Answer
		err := row.Scan(&a.ID, &a.Author, &a.AuthorID, &a.Body, &a.Helpful, &a.Created, &a.Edited)
		a.Articles = []string{}
		return a, err
	})
	if err != nil {
		return err
	}
	byID := map[int64]int{}
	ids := make([]int64, len(answers))
	for i, a := range answers {
		byID[a.ID], ids[i] = i, a.ID
	}
	rows, _ = s.pool.Query(ctx, `SELECT l.answer_id, ar.city, ar.slug, coalesce(p.title, ''), coalesce(p.visibility, '')
		FROM question_answer_articles l
		JOIN articles ar ON ar.id = l.article_id
		LEFT JOIN revisions p ON p.id = ar.published_revision_id
		WHERE l.answer_id = ANY($1) ORDER BY l.answer_id, l.position`, ids)
	var aid int64
	var l AnswerLink
	var vis string
	_, err = pgx.ForEachRow(rows, []any{&aid, &l.City, &l.Slug, &l.Title, &vis}, func() error {
		if vis != "" && reader.CanRead(l.City, wiki.Visibility(vis)) {
			a := &answers[byID[aid]]
			a.Articles = append(a.Articles, l.City+"/"+l.Slug)
			a.Links = append(a.Links, l)
		}
		return nil
	})
	q.Answers = answers
	return err
}

// Answer records a member's answer with links to articles the member may
// read ("city/slug"), and tells the asker.
func (s *Service) Answer(ctx context.Context, m Meta, qid int64, body string, articles []string) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	linked, err := s.checkAnswer(ctx, m.Identity, body, articles)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q, err := questionByID(ctx, tx, qid)
		if err != nil {
			return err
		}
		if q.Closed {
			return &wiki.InvalidError{Field: "body", Key: "question.closed", Message: "the question is closed"}
		}
		var aid int64
		if err := tx.QueryRow(ctx, `INSERT INTO question_answers (question_id, author_id, body) VALUES ($1, $2, $3) RETURNING id`,
			qid, m.Identity.UserID, body).Scan(&aid); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "question.answer", fmt.Sprintf("question:%d", qid),
			map[string]any{"answer": aid, "articles": len(linked)}); err != nil {
			return err
		}
		if err := linkAnswer(ctx, tx, aid, linked); err != nil {
			return err
		}
		// Search pages list questions by the words of their answers.
		if err := questionsChanged(ctx, tx); err != nil {
			return err
		}
		if q.AuthorID == m.Identity.UserID {
			return nil
		}
		to, err := activeUsers(ctx, tx, []string{q.Author}, m.Identity.UserID)
		if err != nil {
			return err
		}
		return s.notifyQuestion(ctx, tx, to, "question.answered", qid, q.Title, m.Identity.Username)
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, qid)
}

// linkAnswer records the articles an answer links to, in order.
func linkAnswer(ctx context.Context, tx pgx.Tx, aid int64, linked []int64) error {
	for i, art := range linked {
		if _, err := tx.Exec(ctx, `INSERT INTO question_answer_articles (answer_id, position, article_id) VALUES ($1, $2, $3)`, aid, i, art); err != nil {
			return err
		}
	}
	return nil
}

// checkAnswer checks an answer's text and resolves its article links
// ("city/slug") among the articles id may read.
func (s *Service) checkAnswer(ctx context.Context, id *auth.Identity, body string, articles []string) ([]int64, error) {
	switch {
	case strings.TrimSpace(body) == "":
		return nil, &wiki.InvalidError{Field: "body", Key: "answer.empty", Message: "body is required"}
	case len(body) > MaxAnswerBody:
		return nil, tooLong("body", MaxAnswerBody)
	case !utf8.ValidString(body) || strings.ContainsRune(body, 0):
		return nil, &wiki.InvalidError{Field: "body", Key: "utf8", Message: "text is not valid UTF-8"}
	case len(articles) > maxAnswerLinks:
		return nil, &wiki.InvalidError{Field: "articles", Key: "answer.links", Message: "too many articles"}
	}
	reader := s.Reader(id)
	var linked []int64
	seen := map[string]bool{}
	for _, ref := range articles {
		if ref = strings.TrimSpace(ref); seen[ref] {
			continue
		}
		seen[ref] = true
		city, slug, ok := strings.Cut(ref, "/")
		if !ok {
			return nil, &wiki.InvalidError{Field: "articles", Key: "answer.article", Message: "articles are city/slug"}
		}
		a, err := s.store.Article(ctx, reader, city, slug)
		if errors.Is(err, wiki.ErrNotFound) {
			// One the answerer may not read is as unknown as a missing one.
			return nil, &wiki.InvalidError{Field: "articles", Key: "answer.article", Message: "unknown article " + ref}
		}
		if err != nil {
			return nil, err
		}
		linked = append(linked, a.ID)
	}
	return linked, nil
}

// MarkHelpful marks an answer helpful (or not): only the asker may.
func (s *Service) MarkHelpful(ctx context.Context, m Meta, qid, aid int64, helpful bool) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	q, err := questionByID(ctx, s.pool, qid)
	if err != nil {
		return nil, err
	}
	if q.AuthorID != m.Identity.UserID {
		return nil, wiki.ErrForbidden
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE question_answers SET helpful = $3 WHERE id = $2 AND question_id = $1 AND hidden_at IS NULL`, qid, aid, helpful)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return wiki.ErrNotFound
		}
		if err := s.auditObject(ctx, tx, m, "question.helpful", fmt.Sprintf("question:%d", qid),
			map[string]any{"answer": aid, "helpful": helpful}); err != nil {
			return err
		}
		return questionsChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, qid)
}

// questionsChanged tells every instance that the lists of open questions
// on cached topic and city pages are stale (they are flushed with the
// pages after a publication).
func questionsChanged(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, wiki.PublishedChannel, wiki.AnyChange)
	return err
}

// MarkQuestionRead marks the user's notifications about a question read:
// they have opened it.
func (s *Service) MarkQuestionRead(ctx context.Context, id *auth.Identity, qid int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE notifications SET read_at = now()
		WHERE user_id = $1 AND question_id = $2 AND read_at IS NULL`, id.UserID, qid)
	if err == nil && tag.RowsAffected() > 0 {
		// As MarkChangeRead: this instance's count is right at once, the
		// others hear the trigger.
		s.PersonalChanged(strconv.FormatInt(id.UserID, 10))
	}
	return err
}
