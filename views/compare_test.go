package views

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"

	"hansewiki/wiki"
)

var compareItems = []wiki.ImportItem{
	{Source: "1", Draft: wiki.Draft{City: "wismar", Title: "Gründächer im Hafen", Visibility: wiki.Public, Topics: []string{"klimaresilienz"},
		Body: "A", Experience: wiki.Experience{Status: "planung", StartYear: 2024, Cost: "80.000 €", Funding: "KfW 432", Contact: "Bauamt"}}},
	{Source: "2", Draft: wiki.Draft{City: "rostock", Title: "Starkregen-Hinweiskarte", Visibility: wiki.Public, Topics: []string{"klimaresilienz"},
		Body: "B", Experience: wiki.Experience{Status: "abgeschlossen", StartYear: 2021, Funding: "Land MV"}}},
	{Source: "3", Draft: wiki.Draft{City: "luebeck", Title: "Hitzeaktionsplan", Visibility: wiki.Network, Topics: []string{"klimaresilienz"},
		Body: "C", Experience: wiki.Experience{Status: "umsetzung", StartYear: 2023}}},
	{Source: "4", Draft: wiki.Draft{City: "luebeck", Title: "Stadtinterne Pegelmessung", Visibility: wiki.CityVis, Topics: []string{"klimaresilienz"},
		Body: "D", Experience: wiki.Experience{Status: "idee"}}},
	{Source: "5", Draft: wiki.Draft{City: "rostock", Title: "Quartiersbus", Visibility: wiki.Public, Topics: []string{"mobilitaet"}, Body: "E"}},
}

var compareRow = regexp.MustCompile(`<td lang="de"><a href="/c/[a-z]+/[a-z0-9-]+">([^<]+)</a></td>`)

func titlesOf(page string) []string {
	var out []string
	for _, m := range compareRow.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// A topic page compares the topic's experience reports across cities in
// one table that each reader sees with what they may read, sorted by the
// column they choose, and downloads as CSV.
func TestTopicComparesExperienceReports(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, compareItems...)
	member := account(t, s, "mia", "author", "rostock")
	luebeck := account(t, s, "lutz", "author", "luebeck")
	cases := []struct {
		who, token, query string
		want              []string
	}{
		{"anonymous, by city", "", "", []string{"Starkregen-Hinweiskarte", "Gründächer im Hafen"}},
		{"a member, by city", member, "", []string{"Hitzeaktionsplan", "Starkregen-Hinweiskarte", "Gründächer im Hafen"}},
		{"Lübeck's author, by city", luebeck, "", []string{"Hitzeaktionsplan", "Stadtinterne Pegelmessung", "Starkregen-Hinweiskarte", "Gründächer im Hafen"}},
		{"by start year, newest first", member, "?sort=start_year&order=desc", []string{"Gründächer im Hafen", "Hitzeaktionsplan", "Starkregen-Hinweiskarte"}},
		{"by stage, by progress", luebeck, "?sort=status", []string{"Stadtinterne Pegelmessung", "Gründächer im Hafen", "Hitzeaktionsplan", "Starkregen-Hinweiskarte"}},
		{"finished ones", member, "?status=abgeschlossen", []string{"Starkregen-Hinweiskarte"}},
	}
	for _, c := range cases {
		rec := send(s, "GET", "/topics/klimaresilienz"+c.query, c.token, "", "")
		if rec.Code != 200 {
			t.Fatalf("%s: %d", c.who, rec.Code)
		}
		if got := titlesOf(rec.Body.String()); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: rows %v, want %v", c.who, got, c.want)
		}
	}
	page := do(t, s, "GET", "/topics/klimaresilienz?sort=start_year").Body.String()
	if !strings.Contains(page, `aria-sort="ascending"`) || !strings.Contains(page, "KfW 432") || !strings.Contains(page, "Abgeschlossen") {
		t.Error("the sorted column is not marked, or the experience fields are missing")
	}
	if rec := do(t, s, "GET", "/topics/klimaresilienz?sort=passwort"); rec.Code != 422 {
		t.Errorf("unknown sort column: %d, want 422", rec.Code)
	}

	rec := send(s, "GET", "/topics/klimaresilienz/experiences.csv?sort=start_year", member, "", "")
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil || rec.Code != 200 || len(rows) != 4 {
		t.Fatalf("CSV: %d %v, %d rows", rec.Code, err, len(rows))
	}
	if rows[0][0] != "Stadt" || rows[1][1] != "Starkregen-Hinweiskarte" || rows[1][2] != "Abgeschlossen" || rows[3][0] != "Hansestadt Wismar" && rows[3][0] != "Wismar" {
		t.Errorf("CSV rows: %v", rows)
	}
	if anon := do(t, s, "GET", "/topics/klimaresilienz/experiences.csv").Body.String(); strings.Contains(anon, "Hitzeaktionsplan") {
		t.Error("the anonymous CSV holds a network article")
	}
}

// City and topic pages advertise their own feeds to feed readers.
func TestCityAndTopicPagesAdvertiseTheirFeeds(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, compareItems...)
	for path, feed := range map[string]string{"/c/rostock": "/c/rostock/feed.atom", "/topics/klimaresilienz": "/topics/klimaresilienz/feed.atom"} {
		body := do(t, s, "GET", path).Body.String()
		if !strings.Contains(body, `<link rel="alternate" type="application/atom+xml" href="`+feed+`"`) {
			t.Errorf("%s does not advertise %s", path, feed)
		}
		if rec := do(t, s, "GET", feed); rec.Code != 200 {
			t.Errorf("%s: %d", feed, rec.Code)
		}
	}
}
