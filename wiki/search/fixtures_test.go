package search

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
	"hansewiki/wiki/markdown"
)

// fixture is one German article of the behaviour suite.
type fixture struct {
	city, title, body string
	vis               wiki.Visibility
	topics, tags      []string
	status            string
	// The comparable experience fields (issue 13).
	startYear         int
	costBand, funding string
	// age orders publication times: 0 is the newest.
	age int
}

// The corpus: real-sounding experience reports of the six cities, with the
// words the cases below look for, and a city-only and network article whose
// words must never reach readers without access.
var fixtures = []fixture{
	{city: "rostock", title: "Pegelsensoren an der Warnow", startYear: 2021, costBand: "50k-250k", funding: "Modellprojekte Smart Cities", vis: wiki.Public, age: 1,
		topics: []string{"wasser-umwelt", "stadtdaten"}, tags: []string{"sensorik", "hochwasser"}, status: "umsetzung",
		body: "## Ausgangslage\n\nDie Warnow reagiert auf **Starkregen** und Wind. Wir haben vierzehn Sensoren an Gräben und Durchlässen installiert.\n\n## Ergebnisse\n\nDie Messwerte kommen alle fünf Minuten über LoRaWAN ins Datenportal."},
	{city: "wismar", title: "Luftqualität am Alten Hafen", startYear: 2023, costBand: "unter-10k", funding: "", vis: wiki.Public, age: 2,
		topics: []string{"stadtdaten"}, tags: []string{"sensorik"}, status: "planung",
		body: "Ein einzelner Sensor auf dem Dach des Hafenamts misst Feinstaub. Die Werte stehen als offene Daten bereit."},
	{city: "luebeck", title: "Digitaler Bauantrag und E-Akte im Bauamt", startYear: 2020, costBand: "250k-1m", funding: "", vis: wiki.Public, age: 3,
		topics: []string{"e-akte"}, tags: []string{"bauantrag", "ozg"}, status: "abgeschlossen",
		body: "Bürgerinnen und Bürger reichen Bauanträge online ein. Die E-Akte ersetzt die Papierakte im Bauamt vollständig."},
	{city: "schwerin", title: "Elektronische Akte in der Kernverwaltung", startYear: 2020, costBand: "250k-1m", funding: "EFRE", vis: wiki.Network, age: 4,
		topics: []string{"e-akte"}, tags: []string{"dms"}, status: "umsetzung",
		body: "Die Einführung der elektronischen Akte begann mit dem Hauptamt. Schulungen und ein Scanzentrum halfen beim Umstieg."},
	{city: "wismar", title: "Rufbus mit digitaler Buchung", startYear: 2022, costBand: "50k-250k", funding: "Modellprojekte Smart Cities", vis: wiki.Public, age: 5,
		topics: []string{"mobilitaet"}, tags: []string{"rufbus"}, status: "umsetzung",
		body: "Der Rufbus ergänzt den öffentlichen Nahverkehr in den Randlagen. Fahrgäste buchen per App oder Telefon."},
	{city: "stralsund", title: "Klimaresilienz in der Altstadt", vis: wiki.Public, age: 6,
		topics: []string{"klimaresilienz"}, tags: []string{"hitze"}, status: "idee",
		body: "Verschattung, Trinkbrunnen und entsiegelte Höfe sollen die Altstadt im Sommer kühler machen."},
	{city: "neubrandenburg", title: "Gründachkataster für die Innenstadt", startYear: 2021, costBand: "10k-50k", funding: "KfW 432", vis: wiki.Public, age: 7,
		topics: []string{"klimaresilienz", "gebaeude"}, tags: []string{"gruendach"}, status: "abgeschlossen",
		body: "Das Kataster zeigt, welche Dächer sich für eine Begrünung eignen. Die Bürgerbeteiligung lief über drei Workshops."},
	{city: "rostock", title: "Radverkehrskonzept für die Innenstadt", startYear: 2024, costBand: "ueber-1m", funding: "Modellprojekte Smart Cities", vis: wiki.Network, age: 8,
		topics: []string{"mobilitaet"}, tags: []string{"radwege"}, status: "planung",
		body: "Mit dem Fahrrad sollen alle Stadtteile in zwanzig Minuten erreichbar sein. Gezählt wird an zwölf Dauerzählstellen."},
	{city: "luebeck", title: "Formularprüfung mit <b>Markup</b>", startYear: 2022, costBand: "unter-10k", funding: "", vis: wiki.Public, age: 9,
		topics: []string{"e-akte"}, tags: []string{"sicherheit"}, status: "umsetzung",
		body: "Eingaben wie `<script>alert(1)</script>` und `<b>fett</b>` werden im Formular maskiert, bevor sie gespeichert werden."},
	// Hidden from most readers: their distinctive words are the leak probes.
	{city: "schwerin", title: "Vertrauliche Zisternenförderung Starkregen", startYear: 2019, costBand: "10k-50k", funding: "Schweriner Zisternenfonds", vis: wiki.CityVis, age: 10,
		topics: []string{"wasser-umwelt"}, tags: []string{"geheimtag"}, status: "idee",
		body: "Interne Abstimmung zur Zisternenförderung nach dem Starkregen. Die Kernverwaltung prüft die Haushaltsmittel."},
	{city: "wismar", title: "Netzwerkinterne Quartiersspeicher", startYear: 2023, costBand: "50k-250k", funding: "KfW 432", vis: wiki.Network, age: 11,
		topics: []string{"energie"}, tags: []string{"speicher"}, status: "planung",
		body: "Ein Quartiersspeicher am Hafen puffert Solarstrom aus den Dächern der Nachbarschaft."},
	{city: "stralsund", title: "Mobilitätsstation am Bahnhof", vis: wiki.Public, age: 12,
		topics: []string{"wirtschaft"}, tags: []string{"umstieg"}, status: "idee",
		body: "Mobilitätsstation heißt: Carsharing und Leihräder am Bahnhof, eine Mobilitätsstation für alle."},
}

// fixtureKey is how hits are compared: "city/slug".
func hitKeys(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.City + "/" + h.Slug
	}
	return out
}

// importFixtures publishes fs into a fresh database and spreads their
// publication times by age, one hour apart. It returns the pool and the
// "city/slug" of each fixture in order.
func importFixtures(t testing.TB, pool *pgxpool.Pool, fs []fixture) []string {
	t.Helper()
	ctx := context.Background()
	store := wiki.NewStore(pool, markdown.New())
	items := make([]wiki.ImportItem, len(fs))
	for i, f := range fs {
		items[i] = wiki.ImportItem{Source: f.city + "/" + f.title, Draft: wiki.Draft{City: f.city, Title: f.title,
			Body: f.body, Topics: f.topics, Tags: f.tags, Visibility: f.vis, Experience: wiki.Experience{Status: f.status,
				StartYear: f.startYear, CostBand: f.costBand, Funding: f.funding}}}
	}
	if _, err := store.ImportAll(ctx, items, wiki.ImportOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(fs))
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range fs {
		var slug string
		err := pool.QueryRow(ctx, `UPDATE articles a SET published_at = $3
			FROM revisions r WHERE r.id = a.published_revision_id AND a.city = $1 AND r.title = $2
			RETURNING a.slug`, f.city, f.title, base.Add(-time.Duration(f.age)*time.Hour)).Scan(&slug)
		if err != nil {
			t.Fatalf("%s: %v", f.title, err)
		}
		keys[i] = f.city + "/" + slug
	}
	return keys
}

func newTestPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t)
}
