package workflow

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hansewiki/auth"
	"hansewiki/wiki"
)

// Editing and moderating questions (issue 13). The rules, in one place
// (QuestionCapabilities), asked by the pages, the API and the writes here:
//
//   - The asker edits the question (title, text, topics, cities) until it
//     has an answer — answers must keep answering what was asked — and
//     while it is not closed. Cities or topics added reach their people as
//     a new question does; nobody is told twice.
//   - An answer's author edits it (text and links) for AnswerEditWindow
//     after writing it, as a comment.
//   - The asker closes a question (resolved) and reopens it; so do its
//     moderators. A closed question leaves the lists of open questions
//     and takes no new answers.
//   - Moderators hide a question or an answer, audited: network admins,
//     and the admins of a city the question asks (a question that names no
//     city asks every city: only network admins moderate it). A hidden
//     question or answer is gone for everybody, as a hidden comment.

// AnswerEditWindow is how long an author may edit an answer.
const AnswerEditWindow = CommentEditWindow

// QuestionCaps is what a reader may do with a question.
type QuestionCaps struct {
	Edit   bool `json:"edit"`   // change title, text, topics, cities
	Close  bool `json:"close"`  // close (resolved) or reopen
	Hide   bool `json:"hide"`   // hide it for everybody
	Answer bool `json:"answer"` // answer it
}

// AnswerCaps is what a reader may do with an answer.
type AnswerCaps struct {
	Edit    bool `json:"edit"`    // change its text and links
	Hide    bool `json:"hide"`    // hide it for everybody
	Helpful bool `json:"helpful"` // mark it helpful (or not)
}

// moderates reports whether id moderates q: network admins, and admins
// of a city q asks.
func (s *Service) moderates(id *auth.Identity, q *Question) bool {
	if s.perm.Can(id, auth.ManageNetwork, "") {
		return true
	}
	for _, c := range q.Cities {
		if s.perm.Can(id, auth.ManageCity, c) {
			return true
		}
	}
	return false
}

// QuestionCapabilities answers what id may do with q (its answers loaded)
// now, and with each of its answers.
func (s *Service) QuestionCapabilities(id *auth.Identity, q *Question) (QuestionCaps, []AnswerCaps) {
	var k QuestionCaps
	answers := make([]AnswerCaps, len(q.Answers))
	if id == nil {
		return k, answers
	}
	asker := q.AuthorID == id.UserID
	mod := s.moderates(id, q)
	k.Edit = asker && !q.Closed && len(q.Answers) == 0
	k.Close = asker || mod
	k.Hide = mod
	k.Answer = !q.Closed
	now := s.now()
	for i, a := range q.Answers {
		answers[i] = AnswerCaps{
			Edit:    a.AuthorID == id.UserID && now.Sub(a.Created) < AnswerEditWindow,
			Hide:    mod,
			Helpful: asker,
		}
	}
	return k, answers
}

// questionCaps fills q.Can and its answers' Can for id.
func (s *Service) questionCaps(id *auth.Identity, q *Question) {
	k, answers := s.QuestionCapabilities(id, q)
	q.Can = &k
	for i := range q.Answers {
		q.Answers[i].Can = answers[i]
	}
}

// lockedQuestion reads question qid, not hidden, with its answers and
// locks it for the rest of tx; the caller decides by QuestionCapabilities.
func (s *Service) lockedQuestion(ctx context.Context, tx pgx.Tx, id *auth.Identity, qid int64) (*Question, QuestionCaps, []AnswerCaps, error) {
	q, err := questionByID(ctx, tx, qid)
	if err != nil {
		return nil, QuestionCaps{}, nil, err
	}
	rows, _ := tx.Query(ctx, `SELECT id, author_id, created_at FROM question_answers
		WHERE question_id = $1 AND hidden_at IS NULL ORDER BY id`, qid)
	q.Answers, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Answer, error) {
		var a Answer
		return a, row.Scan(&a.ID, &a.AuthorID, &a.Created)
	})
	if err != nil {
		return nil, QuestionCaps{}, nil, err
	}
	k, answers := s.QuestionCapabilities(id, q)
	return q, k, answers, nil
}

// EditQuestion replaces what the asker asked, while QuestionCapabilities
// allows it; the people of cities and topics it now adds are told.
func (s *Service) EditQuestion(ctx context.Context, m Meta, qid int64, nq NewQuestion) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	nq, err := checkQuestion(nq)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q, k, _, err := s.lockedQuestion(ctx, tx, m.Identity, qid)
		if err != nil {
			return err
		}
		if !k.Edit {
			return fmt.Errorf("question %d: only its asker edits it, until it is answered or closed: %w", qid, wiki.ErrForbidden)
		}
		if err := checkQuestionRefs(ctx, tx, nq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE questions SET title = $2, body = $3, topics = $4, cities = $5, edited_at = now() WHERE id = $1`,
			qid, nq.Title, nq.Body, nq.Topics, nq.Cities); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "question.edit", fmt.Sprintf("question:%d", qid),
			map[string]any{"topics": nq.Topics, "cities": nq.Cities}); err != nil {
			return err
		}
		// Whom the question reaches now and was not told yet.
		to, err := s.questionRecipients(ctx, tx, nq.Topics, nq.Cities, q.AuthorID)
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT user_id FROM notifications WHERE question_id = $1 AND kind = 'question.created'`, qid)
		told, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		was := map[int64]bool{}
		for _, u := range told {
			was[u] = true
		}
		var fresh []int64
		for _, u := range to {
			if !was[u] {
				fresh = append(fresh, u)
			}
		}
		if err := s.notifyQuestion(ctx, tx, fresh, "question.created", qid, nq.Title, m.Identity.Username); err != nil {
			return err
		}
		return questionsChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, qid)
}

// CloseQuestion closes a question (resolved) or reopens it: the asker and
// the question's moderators.
func (s *Service) CloseQuestion(ctx context.Context, m Meta, qid int64, closed bool) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q, k, _, err := s.lockedQuestion(ctx, tx, m.Identity, qid)
		if err != nil {
			return err
		}
		if !k.Close {
			return fmt.Errorf("question %d: only its asker and its moderators close or reopen it: %w", qid, wiki.ErrForbidden)
		}
		if q.Closed == closed {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE questions SET closed_at = CASE WHEN $2 THEN now() END,
			closed_by = CASE WHEN $2 THEN $3 ELSE '' END WHERE id = $1`, qid, closed, m.actor()); err != nil {
			return err
		}
		action := "question.reopen"
		if closed {
			action = "question.close"
		}
		if err := s.auditObject(ctx, tx, m, action, fmt.Sprintf("question:%d", qid), nil); err != nil {
			return err
		}
		return questionsChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, qid)
}

// HideQuestion hides a question for everybody: its moderators, audited.
func (s *Service) HideQuestion(ctx context.Context, m Meta, qid int64) error {
	if err := member(m.Identity); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, k, _, err := s.lockedQuestion(ctx, tx, m.Identity, qid)
		if err != nil {
			return err
		}
		if !k.Hide {
			return fmt.Errorf("question %d: only network admins and the admins of the cities it asks hide it: %w", qid, wiki.ErrForbidden)
		}
		if _, err := tx.Exec(ctx, `UPDATE questions SET hidden_at = now(), hidden_by = $2 WHERE id = $1`, qid, m.actor()); err != nil {
			return err
		}
		// Its notifications leave the lists; marking them read also
		// tells every instance that the unread counts changed.
		if _, err := tx.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE question_id = $1 AND read_at IS NULL`, qid); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "question.hide", fmt.Sprintf("question:%d", qid), nil); err != nil {
			return err
		}
		return questionsChanged(ctx, tx)
	})
}

// answerAt is answer aid's place in q.Answers, or wiki.ErrNotFound.
func answerAt(q *Question, aid int64) (int, error) {
	for i, a := range q.Answers {
		if a.ID == aid {
			return i, nil
		}
	}
	return 0, fmt.Errorf("answer %d: %w", aid, wiki.ErrNotFound)
}

// EditAnswer replaces an answer's text and links: its author, for
// AnswerEditWindow after writing it.
func (s *Service) EditAnswer(ctx context.Context, m Meta, qid, aid int64, body string, articles []string) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	linked, err := s.checkAnswer(ctx, m.Identity, body, articles)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q, _, answers, err := s.lockedQuestion(ctx, tx, m.Identity, qid)
		if err != nil {
			return err
		}
		i, err := answerAt(q, aid)
		if err != nil {
			return err
		}
		if !answers[i].Edit {
			return fmt.Errorf("answer %d: its author may change it only for %v after writing it: %w", aid, AnswerEditWindow, wiki.ErrForbidden)
		}
		if _, err := tx.Exec(ctx, `UPDATE question_answers SET body = $2, edited_at = now() WHERE id = $1`, aid, body); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM question_answer_articles WHERE answer_id = $1`, aid); err != nil {
			return err
		}
		if err := linkAnswer(ctx, tx, aid, linked); err != nil {
			return err
		}
		if err := questionsChanged(ctx, tx); err != nil { // search pages list questions by their answers' words
			return err
		}
		return s.auditObject(ctx, tx, m, "question.answer_edit", fmt.Sprintf("question:%d", qid),
			map[string]any{"answer": aid, "articles": len(linked)})
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, qid)
}

// HideAnswer hides an answer for everybody: the question's moderators,
// audited. A hidden helpful answer no longer settles the question.
func (s *Service) HideAnswer(ctx context.Context, m Meta, qid, aid int64) (*Question, error) {
	if err := member(m.Identity); err != nil {
		return nil, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q, _, answers, err := s.lockedQuestion(ctx, tx, m.Identity, qid)
		if err != nil {
			return err
		}
		i, err := answerAt(q, aid)
		if err != nil {
			return err
		}
		if !answers[i].Hide {
			return fmt.Errorf("answer %d: only network admins and the admins of the cities the question asks hide it: %w", aid, wiki.ErrForbidden)
		}
		if _, err := tx.Exec(ctx, `UPDATE question_answers SET hidden_at = now(), hidden_by = $2 WHERE id = $1`, aid, m.actor()); err != nil {
			return err
		}
		if err := s.auditObject(ctx, tx, m, "question.answer_hide", fmt.Sprintf("question:%d", qid),
			map[string]any{"answer": aid}); err != nil {
			return err
		}
		return questionsChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return s.Question(ctx, m.Identity, qid)
}
