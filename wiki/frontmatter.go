package wiki

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// frontMatter is the YAML header of an article file in the import/export
// layout DIR/{city}/{slug}.md. Field order is the order written on export.
type frontMatter struct {
	Title      string   `yaml:"title"`
	Topics     []string `yaml:"topics,flow"`
	Tags       []string `yaml:"tags,flow"`
	Visibility string   `yaml:"visibility"`
	Status     string   `yaml:"status,omitempty"`
	StartYear  int      `yaml:"start_year,omitempty"`
	Cost       string   `yaml:"cost,omitempty"`
	CostBand   string   `yaml:"cost_band,omitempty"`
	Funding    string   `yaml:"funding,omitempty"`
	Partners   string   `yaml:"partners,omitempty"`
	Contact    string   `yaml:"contact,omitempty"`
	// AdoptedFrom is "city/slug" of the article this one builds on.
	AdoptedFrom string `yaml:"adopted_from,omitempty"`
	// Archived articles keep their content; the flag makes an export
	// import again as it was.
	Archived bool `yaml:"archived,omitempty"`
}

const fence = "---\n"

// ParseArticleFile reads an article file: YAML front matter between two
// "---" lines, then the Markdown body. City, slug and source come from the
// path and are not set here.
func ParseArticleFile(data []byte) (ImportItem, error) {
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalid(data)], []byte("\n"))
		return ImportItem{}, invalid("file", "file.utf8", "the file is not valid UTF-8 (line %d)", line)
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !strings.HasPrefix(text, fence) {
		return ImportItem{}, invalid("file", "file.frontmatter", "the file does not start with YAML front matter (a line \"---\")")
	}
	header, body, ok := strings.Cut(text[len(fence):], "\n"+fence)
	if !ok {
		if h, found := strings.CutSuffix(text[len(fence):], "\n---"); found {
			header, body, ok = h, "", true
		} else if strings.HasPrefix(text[len(fence):], fence) {
			header, body, ok = "", text[2*len(fence):], true
		}
	}
	if !ok {
		return ImportItem{}, invalid("file", "file.frontmatter", "the front matter is not closed by a line \"---\"")
	}
	var fm frontMatter
	dec := yaml.NewDecoder(strings.NewReader(header))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, errEOF(err)) {
		return ImportItem{}, invalid("file", "file.yaml", "the front matter is not valid: %v", err)
	}
	if strings.TrimSpace(fm.Title) == "" {
		return ImportItem{}, invalid("title", "title.missing", "the front matter has no title")
	}
	return ImportItem{Archived: fm.Archived, Draft: Draft{
		Title: fm.Title, Body: body, Topics: fm.Topics, Tags: fm.Tags,
		Visibility: Visibility(fm.Visibility),
		Experience: Experience{Status: fm.Status, StartYear: fm.StartYear, Cost: fm.Cost, CostBand: fm.CostBand,
			Funding: fm.Funding, Partners: fm.Partners, Contact: fm.Contact, AdoptedFrom: fm.AdoptedFrom},
		Summary: "Import",
	}}, nil
}

// errEOF returns err when it is the decoder's "empty document" error.
func errEOF(err error) error {
	if err != nil && err.Error() == "EOF" {
		return err
	}
	return nil
}

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// FormatArticleFile writes a revision, and whether its article is archived,
// in the import/export layout, so that an export imports again without loss.
func FormatArticleFile(r *Revision, archived bool) ([]byte, error) {
	fm := frontMatter{Title: r.Title, Topics: nonNil(r.Topics), Tags: nonNil(r.Tags),
		Visibility: string(r.Visibility), Status: r.Status, StartYear: r.StartYear, Cost: r.Cost, CostBand: r.CostBand,
		Funding: r.Funding, Partners: r.Partners, Contact: r.Contact, AdoptedFrom: r.AdoptedFrom, Archived: archived}
	var buf bytes.Buffer
	buf.WriteString(fence)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(fm); err != nil {
		return nil, fmt.Errorf("front matter: %w", err)
	}
	enc.Close()
	buf.WriteString(fence)
	buf.WriteString(r.Body)
	return buf.Bytes(), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
