package workflow

import (
	"context"
	"strconv"
	"sync"
	"time"

	"hansewiki/auth"
)

// Notification channels of the workflow's caches; triggers send them for
// every write (migration 0011).
const (
	// PersonalChannel names a user whose notifications or watched
	// articles changed (payload: the user's id).
	PersonalChannel = "hansewiki_personal"
	// ArticleChangesChannel names an article whose open changes changed
	// (payload: the article's id).
	ArticleChangesChannel = "hansewiki_article_changes"
)

// caches keep what a signed-in reader's pages show besides the shared
// page: per user the unread count and watched articles, per article its
// open changes. Only read requests use them (auth.CachedReads); entries
// are dropped when a notification names them, and gen stops a read that
// began before a drop from storing what it read afterwards.
type caches struct {
	mu       sync.Mutex
	gen      uint64
	personal map[int64]*personalState
	open     map[int64][]*Change
}

type personalState struct {
	unread  int
	watched map[int64]bool
	topics  map[string]bool
	cities  map[string]bool
	// comments are the user's comments still within the edit window when
	// read; editable filters them by time again.
	comments map[int64]ownComment
}

type ownComment struct {
	body    string
	created time.Time
}

// maxCached bounds each map; when full it starts over.
const maxCached = 100_000

func newCaches() *caches {
	return &caches{personal: map[int64]*personalState{}, open: map[int64][]*Change{}}
}

// personal is the user's unread count and watched articles.
func (s *Service) personal(ctx context.Context, id *auth.Identity) (*personalState, error) {
	c := s.caches
	c.mu.Lock()
	p, gen := c.personal[id.UserID], c.gen
	c.mu.Unlock()
	if p != nil && auth.CachedReads(ctx) {
		return p, nil
	}
	p = &personalState{}
	var err error
	if p.unread, err = s.countUnread(ctx, id); err != nil {
		return nil, err
	}
	if p.watched, err = s.watchedArticles(ctx, id.UserID); err != nil {
		return nil, err
	}
	if p.topics, p.cities, err = s.watchedTopicsAndCities(ctx, id.UserID); err != nil {
		return nil, err
	}
	if p.comments, err = s.recentComments(ctx, id.UserID); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if gen == c.gen {
		if len(c.personal) >= maxCached {
			clear(c.personal)
		}
		c.personal[id.UserID] = p
	}
	c.mu.Unlock()
	return p, nil
}

// openChanges is an article's open changes (loadOpenChanges).
func (s *Service) openChanges(ctx context.Context, articleID int64) ([]*Change, error) {
	c := s.caches
	c.mu.Lock()
	list, ok := c.open[articleID]
	gen := c.gen
	c.mu.Unlock()
	if ok && auth.CachedReads(ctx) {
		return list, nil
	}
	list, err := s.loadOpenChanges(ctx, articleID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if gen == c.gen {
		if len(c.open) >= maxCached {
			clear(c.open)
		}
		c.open[articleID] = list
	}
	c.mu.Unlock()
	return list, nil
}

// PersonalChanged drops the cached state of the user in payload, or of
// everyone for ” (after a reconnect, and after a publication: what an
// unread notification is about may have become unreadable).
func (s *Service) PersonalChanged(payload string) {
	c := s.caches
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
		delete(c.personal, id)
		return
	}
	clear(c.personal)
}

// ArticleChangesChanged drops the cached open changes of the article in
// payload, or of every article for ”. Account changes drop them all too:
// they carry authors' names and decide who may open them.
func (s *Service) ArticleChangesChanged(payload string) {
	c := s.caches
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
		delete(c.open, id)
		return
	}
	clear(c.open)
}
