package views

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"hansewiki/wiki"
)

// Atom 1.0 (RFC 4287), just the parts feed readers need.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID       string       `xml:"id"`
	Title    string       `xml:"title"`
	Updated  string       `xml:"updated"`
	Author   *atomAuthor  `xml:"author,omitempty"`
	Link     atomLink     `xml:"link"`
	Category []atomCat    `xml:"category"`
	Summary  atomTextBody `xml:"summary"`
}

// atomCat is a topic or the city: a stable term, and the name people read
// as its label.
type atomCat struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomTextBody struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// absolute makes a path absolute with the configured base URL. It never
// looks at the request: a forged Host header must not reach a feed or page
// that is cached and served to everyone.
func (s *Server) absolute(path string) string {
	return s.baseURL + path
}

// feed answers the newest publications the reader may read: network-wide,
// per city ({city}) or per topic ({topic}). Feed readers usually come
// without a session, so most see public articles only.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	ctx := r.Context()
	c := s.catalogs[language(r)]
	f := wiki.ListFilter{City: v["city"], Topic: v["topic"], Limit: 50}
	title := "Hansewiki – " + c.T("home.recent")
	self := r.URL.Path
	switch {
	case f.City != "":
		city, err := s.store.City(ctx, f.City)
		if err != nil {
			s.htmlError(w, r, err)
			return
		}
		title = "Hansewiki – " + city.Name
	case f.Topic != "":
		t, err := s.store.Topic(ctx, f.Topic)
		if err != nil {
			s.htmlError(w, r, err)
			return
		}
		title = "Hansewiki – " + t.Name(language(r))
	}
	list, err := s.store.ListArticles(ctx, s.readerOf(r), f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	feed := atomFeed{Lang: "de", ID: s.absolute(self), Title: title, Author: atomAuthor{Name: "Smarte Hanse"},
		Links:   []atomLink{{Rel: "self", Href: s.absolute(self), Type: "application/atom+xml"}, {Rel: "alternate", Href: s.absolute("/"), Type: "text/html"}},
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339)}
	for i, a := range list {
		if i == 0 {
			feed.Updated = a.UpdatedAt.UTC().Format(time.RFC3339)
		}
		link := s.absolute(s.url("article", "city", a.City, "slug", a.Slug))
		// The summary is the article's first paragraph, as text.
		summary := strings.TrimSpace(plainText(a.Lead))
		if summary == "" {
			summary = a.CityName
		}
		e := atomEntry{ID: link, Title: a.Title, Updated: a.UpdatedAt.UTC().Format(time.RFC3339), Link: atomLink{Href: link, Type: "text/html"},
			Summary: atomTextBody{Type: "text", Body: summary}}
		if a.Author != "" {
			e.Author = &atomAuthor{Name: a.Author}
		}
		// The city is a category too, so readers can sort by it.
		e.Category = append(e.Category, atomCat{Term: "stadt:" + a.City, Label: a.CityName})
		for _, t := range a.Topics {
			e.Category = append(e.Category, atomCat{Term: t, Label: s.topicName(language(r), t)})
		}
		feed.Entries = append(feed.Entries, e)
	}
	out, err := xml.MarshalIndent(feed, "", " ")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	w.Write(out)
}
