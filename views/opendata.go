package views

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"hansewiki/wiki"
)

// Open data: what the network publishes of its public experience reports,
// as a DCAT-AP.de catalogue, as CSV and JSON, and as schema.org JSON-LD in
// every public article page. Everything comes from wiki.Store.Reports, read
// as the anonymous reader of the one visibility rule: a network or
// city-only article, or an earlier revision, never appears.

// Vocabularies the catalogue uses, with their prefixes, inlined so that a
// JSON-LD processor expands it without fetching anything.
var catalogContext = map[string]string{
	"dcat":   "http://www.w3.org/ns/dcat#",
	"dct":    "http://purl.org/dc/terms/",
	"foaf":   "http://xmlns.com/foaf/0.1/",
	"dcatde": "http://dcat-ap.de/def/dcatde/",
	"xsd":    "http://www.w3.org/2001/XMLSchema#",
	"vcard":  "http://www.w3.org/2006/vcard/ns#",
}

// Controlled vocabularies of DCAT-AP (EU data themes, file types,
// languages) and DCAT-AP.de (licences).
const (
	euTheme    = "http://publications.europa.eu/resource/authority/data-theme/"
	euFileType = "http://publications.europa.eu/resource/authority/file-type/"
	euLanguage = "http://publications.europa.eu/resource/authority/language/"
	dcatDELic  = "http://dcat-ap.de/def/licenses/"
)

// themeOf maps the wiki's topics to EU data themes; a topic not listed is
// about how government works (GOVE).
var themeOf = map[string]string{
	"klimaresilienz": "ENVI", "energie": "ENER", "mobilitaet": "TRAN", "umwelt": "ENVI",
	"soziale-stadt": "SOCI", "bildung": "EDUC", "gesundheit": "HEAL", "wirtschaft": "ECON",
	"tourismus": "ECON", "digitalisierung": "GOVE", "e-akte": "GOVE", "beteiligung": "GOVE",
}

// licenseURI is the licence of the open data: HANSEWIKI_LICENSE as a URI,
// or as a name of DCAT-AP.de's licence list; the Datenlizenz Deutschland –
// Namensnennung 2.0 by default.
func licenseURI(name string) string {
	switch {
	case name == "" || name == "dl-de/by-2-0":
		return dcatDELic + "dl-by-de/2.0"
	case strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://"):
		return name
	}
	return dcatDELic + name
}

func ref(id string) map[string]string { return map[string]string{"@id": id} }

func german(s string) map[string]string { return map[string]string{"@value": s, "@language": "de"} }

func dateTime(t time.Time) map[string]string {
	return map[string]string{"@value": t.UTC().Format(time.RFC3339), "@type": "xsd:dateTime"}
}

// description is an article's first paragraph as plain text: the first
// line long enough not to be a heading, at most 500 characters.
func description(a wiki.Report) string {
	for _, line := range strings.Split(plainText(a.HTML), "\n") {
		line = strings.TrimSpace(line)
		if utf8.RuneCountInString(line) >= 40 {
			if r := []rune(line); len(r) > 500 {
				return string(r[:499]) + "…"
			}
			return line
		}
	}
	return a.Title
}

// openData reads the public articles for an export, answering the error
// itself.
func (s *Server) openData(w http.ResponseWriter, r *http.Request) ([]wiki.Report, bool) {
	list, err := s.store.Reports(r.Context(), wiki.Reader{}, "")
	if err != nil {
		s.serverError(w, r, err)
		return nil, false
	}
	return list, true
}

func (s *Server) articleURL(a wiki.Report) string {
	return s.absolute(s.url("article", "city", a.City, "slug", a.Slug))
}

// openCatalog is /opendata/catalog.jsonld.
func (s *Server) openCatalog(w http.ResponseWriter, r *http.Request) {
	list, ok := s.openData(w, r)
	if !ok {
		return
	}
	license := ref(licenseURI(s.opts.License))
	contributor := s.opts.OpenDataContributor
	if contributor == "" {
		contributor = s.absolute("/opendata/catalog.jsonld#contributor")
	}
	topics := s.topicNames()
	datasets := make([]map[string]any, 0, len(list))
	var modified time.Time
	for _, a := range list {
		page := s.articleURL(a)
		themes := []map[string]string{}
		seen := map[string]bool{}
		keywords := append([]string{}, a.Tags...)
		for _, t := range a.Topics {
			theme := themeOf[t]
			if theme == "" {
				theme = "GOVE"
			}
			if !seen[theme] {
				seen[theme] = true
				themes = append(themes, ref(euTheme+theme))
			}
			if tp, ok := topics[t]; ok {
				keywords = append(keywords, tp.Name("de"))
			}
		}
		if len(themes) == 0 {
			themes = append(themes, ref(euTheme+"GOVE"))
		}
		dist := func(suffix, title, url, fileType, media string) map[string]any {
			return map[string]any{"@id": page + "#" + suffix, "@type": "dcat:Distribution", "dct:title": german(title),
				"dcat:accessURL": ref(url), "dcat:downloadURL": ref(url), "dct:format": ref(euFileType + fileType),
				"dcat:mediaType": ref("https://www.iana.org/assignments/media-types/" + media), "dct:license": license,
				"dct:modified": dateTime(a.Modified)}
		}
		datasets = append(datasets, map[string]any{
			"@id": page, "@type": "dcat:Dataset",
			"dct:identifier":       page,
			"dct:title":            german(a.Title),
			"dct:description":      german(description(a)),
			"dcatde:contributorID": ref(contributor),
			"dct:publisher":        map[string]any{"@id": s.absolute(s.url("city", "city", a.City)), "@type": "foaf:Agent", "foaf:name": a.CityName},
			"dcat:theme":           themes,
			"dcat:keyword":         keywords,
			"dct:language":         ref(euLanguage + "DEU"),
			"dct:issued":           dateTime(a.Issued),
			"dct:modified":         dateTime(a.Modified),
			"dct:license":          license,
			"dcat:landingPage":     ref(page),
			"dcat:distribution": []map[string]any{
				dist("html", "Artikel (HTML)", page, "HTML", "text/html"),
				dist("markdown", "Artikel (Markdown)", s.absolute(s.url("article.markdown", "city", a.City, "slug", a.Slug)), "TXT", "text/markdown"),
				dist("json", "Artikel (JSON)", s.absolute(s.url("api.article", "city", a.City, "slug", a.Slug)), "JSON", "application/json"),
			},
		})
		if a.Modified.After(modified) {
			modified = a.Modified
		}
	}
	catalog := map[string]any{
		"@context":           catalogContext,
		"@id":                s.absolute("/opendata/catalog.jsonld"),
		"@type":              "dcat:Catalog",
		"dct:title":          german("Hansewiki – Erfahrungen der Smarten Hanse"),
		"dct:description":    german("Erfahrungsberichte der Städte der Smarten Hanse (Lübeck, Neubrandenburg, Rostock, Schwerin, Stralsund, Wismar) zu Smart-City-Projekten: Ausgangslage, Vorgehen, Ergebnisse und was andere Städte übernehmen können."),
		"dct:publisher":      map[string]any{"@id": s.absolute("/#smarte-hanse"), "@type": "foaf:Agent", "foaf:name": "Smarte Hanse"},
		"dct:language":       ref(euLanguage + "DEU"),
		"dct:license":        license,
		"foaf:homepage":      ref(s.absolute("/")),
		"dcat:themeTaxonomy": ref("http://publications.europa.eu/resource/authority/data-theme"),
		"dcat:dataset":       datasets,
	}
	if !modified.IsZero() {
		catalog["dct:modified"] = dateTime(modified)
	}
	writeLD(w, "application/ld+json", catalog)
}

func writeLD(w http.ResponseWriter, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType+"; charset=utf-8")
	w.Write(buf.Bytes())
}

// experienceRecord is one public experience report in the CSV and JSON
// exports.
type experienceRecord struct {
	City      string   `json:"city"`
	CityName  string   `json:"city_name"`
	Slug      string   `json:"slug"`
	Title     string   `json:"title"`
	URL       string   `json:"url"`
	Topics    []string `json:"topics"`
	Tags      []string `json:"tags"`
	Status    string   `json:"status"`
	StartYear int      `json:"start_year,omitempty"`
	Cost      string   `json:"cost"`
	CostBand  string   `json:"cost_band"`
	Funding   string   `json:"funding"`
	Partners  string   `json:"partners"`
	Contact   string   `json:"contact"`
	Issued    string   `json:"issued"`
	Modified  string   `json:"modified"`
	License   string   `json:"license"`
}

func (s *Server) experienceRecords(list []wiki.Report) []experienceRecord {
	out := make([]experienceRecord, len(list))
	for i, a := range list {
		e := a.Experience
		out[i] = experienceRecord{City: a.City, CityName: a.CityName, Slug: a.Slug, Title: a.Title, URL: s.articleURL(a),
			Topics: a.Topics, Tags: a.Tags, Status: e.Status, StartYear: e.StartYear, Cost: e.Cost, CostBand: e.CostBand, Funding: e.Funding,
			Partners: e.Partners, Contact: e.Contact, Issued: a.Issued.UTC().Format(time.RFC3339),
			Modified: a.Modified.UTC().Format(time.RFC3339), License: licenseURI(s.opts.License)}
	}
	return out
}

// openExperiencesJSON is /opendata/experiences.json.
func (s *Server) openExperiencesJSON(w http.ResponseWriter, r *http.Request) {
	list, ok := s.openData(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.experienceRecords(list))
}

// openExperiencesCSV is /opendata/experiences.csv: one row per public
// experience report, lists joined with "; ".
func (s *Server) openExperiencesCSV(w http.ResponseWriter, r *http.Request) {
	list, ok := s.openData(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"city", "city_name", "slug", "title", "url", "topics", "tags", "status", "start_year",
		"cost", "cost_band", "funding", "partners", "contact", "issued", "modified", "license"})
	for _, e := range s.experienceRecords(list) {
		year := ""
		if e.StartYear != 0 {
			year = strconv.Itoa(e.StartYear)
		}
		cw.Write([]string{e.City, e.CityName, e.Slug, csvSafe(e.Title), e.URL, strings.Join(e.Topics, "; "), csvSafe(strings.Join(e.Tags, "; ")),
			e.Status, year, csvSafe(e.Cost), e.CostBand, csvSafe(e.Funding), csvSafe(e.Partners), csvSafe(e.Contact), e.Issued, e.Modified, e.License})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="hansewiki-erfahrungen.csv"`)
	w.Write(buf.Bytes())
}

// csvSafe keeps a spreadsheet from running a cell as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// articleMarkdown is /c/{city}/{slug}.md: the published Markdown, for
// whoever may read the article.
func (s *Server) articleMarkdown(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	a, err := s.store.Article(r.Context(), s.readerOf(r), v["city"], v["slug"])
	if err != nil {
		s.htmlError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Write([]byte("# " + a.Revision.Title + "\n\n" + a.Revision.Body))
}

// articleLD is the schema.org description of a public article, embedded in
// its page; nil for anything else.
func (s *Server) articleLD(a *wiki.Article, old bool) map[string]any {
	if old || a.Revision.Visibility != wiki.Public {
		return nil
	}
	topics := s.topicNames()
	var about []string
	for _, t := range a.Revision.Topics {
		if tp, ok := topics[t]; ok {
			about = append(about, tp.Name("de"))
		}
	}
	page := s.absolute(s.url("article", "city", a.City, "slug", a.Slug))
	return map[string]any{
		"@context":     "https://schema.org",
		"@type":        "Article",
		"@id":          page,
		"url":          page,
		"headline":     a.Revision.Title,
		"inLanguage":   "de",
		"dateModified": a.UpdatedAt.UTC().Format(time.RFC3339),
		"publisher":    map[string]any{"@type": "GovernmentOrganization", "name": a.CityName, "url": s.absolute(s.url("city", "city", a.City))},
		"license":      licenseURI(s.opts.License),
		"about":        about,
		"keywords":     strings.Join(a.Revision.Tags, ", "),
		"isPartOf":     map[string]any{"@type": "WebSite", "name": "Hansewiki", "url": s.absolute("/")},
	}
}
