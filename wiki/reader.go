package wiki

import (
	"slices"
	"strconv"
)

// Reader is what one viewer may read: the single visibility rule that
// pages, API, history, backlinks, feeds and search all apply. The zero
// Reader is an anonymous visitor, who reads public articles only. auth
// builds Readers from identities and roles.
type Reader struct {
	// Member: signed in, so network articles are readable.
	Member bool
	// Cities whose city-only articles are readable; "*" means every city.
	Cities []string
}

// AllCities is the Cities entry that stands for every city.
const AllCities = "*"

// CanRead reports whether the reader may read an article of city with
// visibility v.
func (r Reader) CanRead(city string, v Visibility) bool {
	switch v {
	case Public:
		return true
	case Network:
		return r.Member
	case CityVis:
		return r.Member && (slices.Contains(r.Cities, AllCities) || slices.Contains(r.Cities, city))
	}
	return false
}

// Key identifies the reader's access class, e.g. for caches of rendered
// pages: two readers with the same key see exactly the same articles.
func (r Reader) Key() string {
	switch {
	case !r.Member:
		return "anon"
	case len(r.Cities) == 0:
		return "member"
	}
	c := slices.Clone(r.Cities)
	slices.Sort(c)
	key := "city"
	for _, s := range c {
		key += ":" + s
	}
	return key
}

// sqlFilter returns a SQL condition on a visibility column and a city column
// that holds exactly when CanRead would; args receive the parameters.
func (r Reader) sqlFilter(visCol, cityCol string, args *[]any) string {
	switch {
	case !r.Member:
		return visCol + " = 'public'"
	case slices.Contains(r.Cities, AllCities):
		return "true"
	case len(r.Cities) == 0:
		return visCol + " IN ('public', 'network')"
	}
	*args = append(*args, r.Cities)
	return "(" + visCol + " IN ('public', 'network') OR " + cityCol + " = ANY($" + strconv.Itoa(len(*args)) + "))"
}

// Audience is the reader with the least access among everyone who may read
// an article of city with visibility v: anonymous for a public article, any
// member for a network one, a member of city for a city-only one. What this
// reader may not read, some reader of the article may not either, so a
// rendering shared by all of them must not reveal it.
func Audience(city string, v Visibility) Reader {
	switch v {
	case Network:
		return Reader{Member: true}
	case CityVis:
		return Reader{Member: true, Cities: []string{city}}
	}
	return Reader{}
}

// Intersect returns the reader who may read exactly what both r and o may
// read: a rendering for one viewer of an article shows neither more than
// the viewer nor more than the article's audience may know.
func (r Reader) Intersect(o Reader) Reader {
	if !r.Member || !o.Member {
		return Reader{}
	}
	switch {
	case slices.Contains(r.Cities, AllCities):
		return o
	case slices.Contains(o.Cities, AllCities):
		return r
	}
	out := Reader{Member: true}
	for _, c := range r.Cities {
		if slices.Contains(o.Cities, c) {
			out.Cities = append(out.Cities, c)
		}
	}
	return out
}
