package search

import (
	"slices"
	"strconv"
	"strings"

	"hansewiki/wiki"
)

// The filters below must hold exactly when wiki.Reader.CanRead does;
// reader_filter_test.go checks both against CanRead on every combination.

// MeiliFilter returns the Meilisearch filter expression that admits the
// documents r may read. It is never empty: every query carries it.
func MeiliFilter(r wiki.Reader) string {
	switch {
	case !r.Member:
		return `visibility = "public"`
	case slices.Contains(r.Cities, wiki.AllCities):
		return `visibility IN ["public", "network", "city"]`
	case len(r.Cities) == 0:
		return `visibility IN ["public", "network"]`
	}
	quoted := make([]string, len(r.Cities))
	for i, c := range r.Cities {
		quoted[i] = meiliString(c)
	}
	return `(visibility IN ["public", "network"] OR (visibility = "city" AND city IN [` + strings.Join(quoted, ", ") + `]))`
}

// meiliString quotes s as a Meilisearch filter string.
func meiliString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// SQLFilter returns a SQL condition on a visibility column and a city
// column that admits the rows r may read; parameters are appended to args
// and referenced by position.
func SQLFilter(r wiki.Reader, visCol, cityCol string, args *[]any) string {
	switch {
	case !r.Member:
		return visCol + " = 'public'"
	case slices.Contains(r.Cities, wiki.AllCities):
		return visCol + " IN ('public', 'network', 'city')"
	case len(r.Cities) == 0:
		return visCol + " IN ('public', 'network')"
	}
	*args = append(*args, r.Cities)
	return "(" + visCol + " IN ('public', 'network') OR (" + visCol + " = 'city' AND " + cityCol +
		" = ANY (" + hideParam("$"+strconv.Itoa(len(*args))+"::text[]") + "::text[])))"
}

// hideParam wraps a query parameter in a sub-select, whose value the planner
// does not look at. Search statements are prepared (pgx caches them), and
// PostgreSQL plans a prepared statement once for all values (a generic
// plan) only when that plan is priced no higher than the plans for the
// values at hand; a parameter whose value changes the estimates, such as
// an array's length, keeps it planning every execution afresh, which costs
// a search on 10,000 articles 1 to 2.5 ms. (A LIMIT must be a scalar: a
// parameter hidden this way is typed by its cast.)
func hideParam(ref string) string { return "(SELECT " + ref + ")" }
