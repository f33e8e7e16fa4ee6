package search

import (
	"context"
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
)

// Generated German experience reports for ranking and benchmark tests. They
// are written straight into articles and revisions with simple HTML, not
// rendered through goldmark one by one, so 10,000 take seconds; publishing
// them runs the same triggers as every publication.

var (
	genCities  = []string{"luebeck", "neubrandenburg", "rostock", "schwerin", "stralsund", "wismar"}
	genTopics  = []string{"klimaresilienz", "mobilitaet", "e-akte", "energie", "buergerbeteiligung", "stadtdaten", "wasser-umwelt", "soziale-stadt", "gebaeude", "wirtschaft"}
	genStatus  = []string{"idee", "planung", "umsetzung", "abgeschlossen"}
	genSubject = []string{"Starkregenvorsorge", "Gründachkataster", "Mobilitätsstation", "E-Akte", "Bürgerhaushalt", "Wärmeplanung",
		"Pegelsensoren", "Rufbus", "Ladeinfrastruktur", "Photovoltaik auf Schuldächern", "Open-Data-Portal", "Hitzeaktionsplan",
		"Stadtbäume", "Quartierszentrum", "Energiemonitoring", "Leerstandsmanagement", "Radverkehrskonzept", "Digitale Sprechstunde",
		"Abwärmenutzung", "Regenwassermanagement", "Car-Sharing", "Bürgerbeteiligung online", "Fachverfahren", "Verkehrszählung"}
	genPlace = []string{"in der Altstadt", "im Hafenquartier", "in den Stadtteilen", "an der Warnow", "im Rathaus", "in der Innenstadt",
		"am Stadtrand", "in Schulen", "in Kitas", "im Bauamt", "im Ordnungsamt", "in der Kernverwaltung"}
	genSentences = []string{
		"Die Stadt hat %s gemeinsam mit der Universität und den Stadtwerken geplant.",
		"Zu Beginn stand eine Bestandsaufnahme aller Flächen, Gebäude und Zuständigkeiten.",
		"Die Förderung kam aus dem Programm Modellprojekte Smart Cities des Bundes.",
		"Bürgerinnen und Bürger konnten Hinweise über die Beteiligungsplattform einreichen.",
		"Die Daten werden als offene Daten im Datenportal veröffentlicht.",
		"Sensoren messen Pegelstände, Temperatur und Bodenfeuchte im Abstand von fünf Minuten.",
		"Der größte Aufwand lag in der Abstimmung zwischen den Ämtern und der Vergabe.",
		"Nach zwei Jahren Betrieb sind die Kosten geringer als erwartet.",
		"Schulungen für die Beschäftigten haben die Einführung deutlich erleichtert.",
		"Die Verwaltung arbeitet jetzt mit der elektronischen Akte statt mit Papier.",
		"Für den Winterdienst wurden die Routen neu berechnet und digital hinterlegt.",
		"Ein Lenkungskreis entscheidet über Prioritäten und Haushaltsmittel.",
		"Die Erfahrungen zeigen, dass frühe Abstimmung mit dem Datenschutz Zeit spart.",
		"Andere Städte können die Ausschreibungsunterlagen übernehmen.",
		"Die Anwohner wurden in drei Workshops beteiligt und haben Standorte vorgeschlagen.",
		"Der Klimaschutz profitiert von weniger Fahrten und geringerem Energieverbrauch.",
		"Wir würden beim nächsten Mal früher mit den Nachbarkommunen sprechen.",
		"Wartung und Ersatzteile müssen von Anfang an im Haushalt eingeplant werden.",
	}
	genFunding = []string{"", "", "Modellprojekte Smart Cities", "Nationale Klimaschutzinitiative", "Städtebauförderung",
		"EFRE", "Landesförderung Digitalisierung MV", "Eigenmittel"}
	genBands = []string{"", "unter-10k", "10k-50k", "50k-250k", "250k-1m", "ueber-1m"}
	genTags  = []string{"sensorik", "lorawan", "foerderung", "datenportal", "beteiligung", "hitze", "starkregen", "ozg", "dms", "radwege", "solar", "waerme"}
)

type genArticle struct {
	city, slug, title, text, vis, status string
	topics, tags                         []string
	// The comparable experience fields; start year 0 and "" for none.
	startYear         int
	costBand, funding string
}

func generate(n int, seed uint64) []genArticle {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// The experience fields from a generator of their own, so the rest of
	// the corpus is what it was before they existed.
	exp := rand.New(rand.NewPCG(seed^0x5eed, seed))
	out := make([]genArticle, n)
	for i := range out {
		subject := genSubject[rng.IntN(len(genSubject))]
		title := fmt.Sprintf("%s %s (%d)", subject, genPlace[rng.IntN(len(genPlace))], i)
		var b strings.Builder
		for range 12 + rng.IntN(12) {
			s := genSentences[rng.IntN(len(genSentences))]
			if strings.Contains(s, "%s") {
				s = fmt.Sprintf(s, subject)
			}
			b.WriteString(s + " ")
		}
		vis := "public"
		switch rng.IntN(10) {
		case 0:
			vis = "city"
		case 1, 2, 3:
			vis = "network"
		}
		out[i] = genArticle{city: genCities[rng.IntN(len(genCities))], slug: fmt.Sprintf("bericht-%05d", i), title: title,
			text: b.String(), vis: vis, status: genStatus[rng.IntN(len(genStatus))],
			topics: []string{genTopics[rng.IntN(len(genTopics))]}, tags: []string{genTags[rng.IntN(len(genTags))], genTags[rng.IntN(len(genTags))]}}
		if y := exp.IntN(12); y > 0 {
			out[i].startYear = 2013 + y
		}
		out[i].costBand, out[i].funding = genBands[exp.IntN(len(genBands))], genFunding[exp.IntN(len(genFunding))]
		if out[i].tags[0] == out[i].tags[1] {
			out[i].tags = out[i].tags[:1]
		}
	}
	return out
}

// bulkPublish writes generated articles as published revisions in one
// transaction; the trigger queues them for the search worker, as
// publishing does.
func bulkPublish(t testing.TB, pool *pgxpool.Pool, arts []genArticle) {
	t.Helper()
	ctx := context.Background()
	cols := make([][]string, 7)
	var topics, tags, bands, funding []string
	var years []int32
	for _, a := range arts {
		htmlBody := "<h2>Ausgangslage</h2>\n<p>" + html.EscapeString(a.text) + "</p>"
		for i, v := range []string{a.city, a.slug, a.title, a.text, a.vis, a.status, htmlBody} {
			cols[i] = append(cols[i], v)
		}
		topics = append(topics, "{"+strings.Join(a.topics, ",")+"}")
		tags = append(tags, "{"+strings.Join(a.tags, ",")+"}")
		years, bands, funding = append(years, int32(a.startYear)), append(bands, a.costBand), append(funding, a.funding)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `WITH input AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::int[], $11::text[], $12::text[])
				WITH ORDINALITY AS x(city, slug, title, body, vis, status, html, topics, tags, start_year, cost_band, funding, n)),
		art AS (
			INSERT INTO articles (city, slug) SELECT city, slug FROM input ORDER BY n RETURNING id, city, slug),
		rev AS (
			INSERT INTO revisions (article_id, title, body, visibility, status, topics, tags, start_year, cost_band, funding,
				author_id, html, published_at)
			SELECT art.id, i.title, i.body, i.vis, i.status, i.topics::text[], i.tags::text[], nullif(i.start_year, 0),
				i.cost_band, i.funding, 1, i.html,
				now() - make_interval(mins => i.n::int)
			FROM input i JOIN art USING (city, slug) RETURNING id)
		SELECT count(*) FROM rev`,
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], topics, tags, years, bands, funding)
	if err != nil {
		t.Fatal(err)
	}
	// Publishing in a statement of its own, as Store.Publish does.
	_, err = tx.Exec(ctx, `UPDATE articles a SET published_revision_id = r.id, published_at = r.published_at
		FROM revisions r WHERE r.article_id = a.id AND a.published_revision_id IS NULL AND a.slug = ANY ($1)`, cols[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// refreshSearchRows writes the PostgreSQL search rows of everything queued,
// as the worker of a PostgreSQL-only server does after commit.
func refreshSearchRows(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	svc, err := Open(context.Background(), Config{Store: wiki.NewStore(pool, markdown.New()), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Worker().Refresh(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}
