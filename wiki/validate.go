package wiki

import (
	"slices"
	"strings"
	"unicode/utf8"

	"hansewiki/wiki/slug"
)

// Limits of the content contract.
const (
	MaxBodyBytes  = 1 << 20
	MaxTitleRunes = 200
	MaxSlugBytes  = 120
	MaxTags       = 30
	MaxTagRunes   = 50
	MaxFieldRunes = 500
	MaxSummary    = 500
)

// Normalize cleans up a draft (trims, derives the slug, lowercases and
// de-duplicates tags and topics) and validates it against the limits. It
// does not check that the city and topics exist; the store does.
func (d *Draft) Normalize() error {
	for field, s := range map[string]string{"title": d.Title, "body": d.Body, "summary": d.Summary,
		"cost": d.Cost, "funding": d.Funding, "partners": d.Partners, "contact": d.Contact} {
		if !utf8.ValidString(s) {
			return invalid(field, "utf8", "%s is not valid UTF-8", field)
		}
	}
	d.Title = strings.TrimSpace(d.Title)
	if n := utf8.RuneCountInString(d.Title); n < 1 || n > MaxTitleRunes {
		return invalid("title", "title.length", "the title must have 1 to %d characters", MaxTitleRunes)
	}
	if strings.ContainsAny(d.Title, "\r\n\t") {
		return invalid("title", "title.line", "the title must be a single line")
	}
	if err := checkBodySize(d.Body); err != nil {
		return err
	}
	d.Body = strings.ReplaceAll(d.Body, "\r\n", "\n")
	d.Summary = strings.TrimSpace(d.Summary)
	if utf8.RuneCountInString(d.Summary) > MaxSummary {
		return invalid("summary", "summary.length", "the edit summary may have at most %d characters", MaxSummary)
	}
	if d.Slug == "" {
		d.Slug = slug.Make(d.Title, MaxSlugBytes)
		if d.Slug == "" {
			return invalid("title", "title.slug", "the title needs at least one letter or digit")
		}
	} else if slug.Make(d.Slug, MaxSlugBytes) != d.Slug {
		return invalid("slug", "slug.format", "the address may contain only a–z, 0–9 and hyphens")
	}
	// /c/{city}/new is the new-article page, /c/{city}/freshness the
	// city's overdue articles.
	switch d.Slug {
	case "new":
		d.Slug = "new-article"
	case "freshness":
		d.Slug = "freshness-article"
	}
	if d.Visibility == "" {
		d.Visibility = Network
	}
	if !d.Visibility.Valid() {
		return invalid("visibility", "visibility.value", "visibility must be public, network or city")
	}
	var err error
	if d.Topics, err = normalizeList(d.Topics, "topics", func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }); err != nil {
		return err
	}
	if d.Tags, err = normalizeList(d.Tags, "tags", normalizeTag); err != nil {
		return err
	}
	if d.Status != "" && !slices.Contains(Statuses, d.Status) {
		return invalid("status", "status.value", "status must be one of idee, planung, umsetzung, abgeschlossen")
	}
	if d.CostBand != "" && !slices.Contains(CostBands, d.CostBand) {
		return invalid("cost_band", "cost_band.value", "cost_band must be one of unter-10k, 10k-50k, 50k-250k, 250k-1m, ueber-1m")
	}
	if d.StartYear != 0 && (d.StartYear < 1900 || d.StartYear > 2200) {
		return invalid("start_year", "start_year.range", "the start year must lie between 1900 and 2200")
	}
	d.AdoptedFrom = strings.TrimSpace(d.AdoptedFrom)
	if d.AdoptedFrom != "" {
		city, slugPart, ok := strings.Cut(d.AdoptedFrom, "/")
		if !ok || slug.Make(city, MaxSlugBytes) != city || slug.Make(slugPart, MaxSlugBytes) != slugPart {
			return invalid("adopted_from", "adopted_from.format", "adopted_from names an article as city/slug")
		}
		if city == d.City {
			return invalid("adopted_from", "adopted_from.city", "an article adopts the experience of another city")
		}
	}
	for field, p := range map[string]*string{"cost": &d.Cost, "funding": &d.Funding, "partners": &d.Partners, "contact": &d.Contact} {
		*p = strings.TrimSpace(*p)
		if utf8.RuneCountInString(*p) > MaxFieldRunes {
			return invalid(field, "field.length", "%s may have at most %d characters", field, MaxFieldRunes)
		}
	}
	return nil
}

// normalizeTag keeps tags readable (umlauts stay) but comparable.
func normalizeTag(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func normalizeList(in []string, field string, norm func(string) string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = norm(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxTagRunes {
			return nil, invalid(field, field+".length", "each entry of %s may have at most %d characters", field, MaxTagRunes)
		}
		out = append(out, s)
	}
	if len(out) > MaxTags {
		return nil, invalid(field, field+".count", "at most %d entries in %s", MaxTags, field)
	}
	return out, nil
}

// checkBodySize is the body limit, for saving and previewing alike: an
// InvalidError on the body that is also ErrTooLarge (413).
func checkBodySize(body string) error {
	if len(body) <= MaxBodyBytes {
		return nil
	}
	e := invalid("body", "body.size", "the text may be at most %d KiB", MaxBodyBytes>>10)
	e.TooLarge = true
	return e
}
