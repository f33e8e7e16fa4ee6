package views

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"hansewiki/auth"
	"hansewiki/workflow"
)

// Personal chrome. A page differs between two readers with the same roles
// only in a few places: the reader's name, the session's CSRF token, the
// unread count, a flash message, whether they watch the article, their
// drafts of it. Templates write a marker there ({{personal "name"}}),
// every page is rendered with markers, and fill puts in the reader's values
// just before the page is sent. So one rendering serves everyone who may
// see the same page (see cached), and every page, cached or not, gets its
// personal parts from this one place.
//
// A marker is the process's random prefix, a name, an optional numeric
// argument and a dot: letters, digits, '-' and '.', which every template
// context leaves as they are. Nobody can plant one in content: the prefix
// is new with every start and never leaves the process.
type personalMarks struct {
	prefix []byte
}

func newPersonalMarks() personalMarks {
	b := make([]byte, 16)
	rand.Read(b)
	return personalMarks{prefix: []byte("hw" + hex.EncodeToString(b) + "-")}
}

// The personal parts a template can mark.
const (
	markName    = "name"    // the reader's display name (text)
	markCSRF    = "csrf"    // the session's CSRF token (an attribute value)
	markUnread  = "unread"  // the unread-count badge of the bell
	markFlash   = "flash"   // the one-time message after a redirect
	markWatch   = "watch"   // the watch form's state, argument: article ID
	markPending = "pending" // the reader's view of an article's open changes, argument: article ID
	markComment = "comment" // a comment's edit and delete forms for its author, argument: comment ID
	// markTopicWatch is the topic watch form's state on a topic page; the
	// topic is the page's (/topics/{topic}), as cached pages are answered
	// before routing.
	markTopicWatch = "topicwatch"
	// markCityWatch is the city watch form's state on a city page.
	markCityWatch = "citywatch"
	// markConfirm is the "Ja, noch aktuell" form for the article's owner,
	// deputy and city admins, argument: article ID.
	markConfirm = "confirm"
)

// mark is the template function personal: the marker of name (and an
// optional article ID).
func (m personalMarks) mark(name string, arg ...int64) template.HTML {
	b := append([]byte(nil), m.prefix...)
	b = append(b, name...)
	if len(arg) > 0 {
		b = append(b, '-')
		b = strconv.AppendInt(b, arg[0], 10)
	}
	return template.HTML(append(b, '.'))
}

// segment is a stretch of a rendered page and the personal part after it.
type segment struct {
	text []byte
	name string // "" after the last stretch
	arg  int64
}

// split cuts a rendered page at its markers.
func (m personalMarks) split(body []byte) []segment {
	var out []segment
	for {
		i := bytes.Index(body, m.prefix)
		if i < 0 {
			return append(out, segment{text: body})
		}
		rest := body[i+len(m.prefix):]
		end := bytes.IndexByte(rest, '.')
		if end < 0 {
			return append(out, segment{text: body})
		}
		name, arg := string(rest[:end]), int64(0)
		if j := bytes.IndexByte(rest[:end], '-'); j >= 0 {
			name = string(rest[:j])
			arg, _ = strconv.ParseInt(string(rest[j+1:end]), 10, 64)
		}
		out = append(out, segment{text: body[:i], name: name, arg: arg})
		body = rest[end+1:]
	}
}

// personal reports whether segments have personal parts to fill.
func personal(segs []segment) bool { return len(segs) > 1 }

// fill writes the page with the reader's values in place of the markers.
func (s *Server) fill(dst *bytes.Buffer, r *http.Request, segs []segment) {
	f := filler{s: s, r: r, ctx: r.Context(), id: auth.FromContext(r.Context())}
	for _, seg := range segs {
		dst.Write(seg.text)
		if seg.name != "" {
			f.write(dst, seg.name, seg.arg)
		}
	}
}

// filler computes one request's personal values as the page asks for them.
type filler struct {
	s   *Server
	r   *http.Request
	ctx context.Context
	id  *auth.Identity
	// editable: the reader's comments still in their edit window, read
	// at the first comment the page marks.
	editable map[int64]string
}

func (f *filler) write(dst *bytes.Buffer, name string, arg int64) {
	s := f.s
	var data any
	switch name {
	case markName:
		if f.id != nil {
			dst.WriteString(html.EscapeString(f.id.Name()))
		}
		return
	case markCSRF:
		// A bearer token is no ambient credential: its forms need no
		// token, and it gets no session.
		if authMethod(f.ctx) != viaToken {
			dst.WriteString(html.EscapeString(s.csrfToken(f.r)))
		}
		return
	case markFlash:
		if authMethod(f.ctx) == viaToken {
			return
		}
		data = s.sessions.PopString(f.ctx, "flash")
	case markUnread:
		if f.id == nil {
			return
		}
		n, err := s.workflow.UnreadCount(f.ctx, f.id)
		if err != nil {
			s.log.Warn("counting unread notifications", "err", err)
		}
		data = n
	case markWatch:
		if f.id == nil {
			return
		}
		data = s.workflow.Watching(f.ctx, f.id, arg)
	case markTopicWatch:
		if f.id == nil {
			return
		}
		on, err := s.workflow.WatchingTopic(f.ctx, f.id, strings.TrimPrefix(f.r.URL.Path, "/topics/"))
		if err != nil {
			s.log.Warn("reading watched topics", "err", err)
		}
		data = on
	case markCityWatch:
		if f.id == nil {
			return
		}
		on, err := s.workflow.WatchingCity(f.ctx, f.id, strings.TrimPrefix(f.r.URL.Path, "/c/"))
		if err != nil {
			s.log.Warn("reading watched cities", "err", err)
		}
		data = on
	case markPending:
		if f.id == nil {
			return
		}
		list, err := s.workflow.PendingChanges(f.ctx, f.id, arg)
		if err != nil { // a notice: the page works without it
			s.log.Warn("reading open changes", "err", err, "article", arg)
			return
		}
		data = list
	case markComment:
		if f.id == nil {
			return
		}
		if f.editable == nil {
			m, err := s.workflow.EditableComments(f.ctx, f.id)
			if err != nil { // a notice: the page works without it
				s.log.Warn("reading editable comments", "err", err)
			}
			f.editable = m
			if m == nil {
				f.editable = map[int64]string{}
			}
		}
		body, ok := f.editable[arg]
		if !ok {
			return
		}
		c := commentControls{ID: arg, Body: body}
		if authMethod(f.ctx) != viaToken {
			c.CSRF = s.csrfToken(f.r)
		}
		data = c
	case markConfirm:
		c := f.confirmPart(arg)
		if c == nil {
			return
		}
		data = c
	default:
		s.log.Error("template marks an unknown personal part", "name", name)
		return
	}
	switch v := data.(type) {
	case int:
		if v == 0 {
			return
		}
	case string:
		if v == "" {
			return
		}
	case []workflow.Pending:
		if len(v) == 0 {
			return
		}
	}
	lang := language(f.r)
	// Parts that take few values (a count, a state) are rendered once per
	// language and value.
	var key string
	if name == markUnread || name == markWatch || name == markTopicWatch || name == markCityWatch {
		key = lang + " " + name + " " + fmt.Sprint(data)
		if b, ok := s.personalParts.Load(key); ok {
			dst.Write(b.([]byte))
			return
		}
	}
	start := dst.Len()
	if err := s.tmpl.base[lang].ExecuteTemplate(dst, "personal-"+name, data); err != nil {
		s.log.Error("rendering a personal part", "name", name, "err", err)
		return
	}
	if key != "" {
		s.personalParts.Store(key, bytes.Clone(dst.Bytes()[start:]))
	}
}
