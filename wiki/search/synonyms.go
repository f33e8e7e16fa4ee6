package search

import "strings"

// synonymGroups are terms that mean the same in the network's work: a query
// for one finds the others. Both backends use this one list: Meilisearch as
// its synonyms setting, PostgreSQL by expanding the query in Go (a synonym
// dictionary would need a file on the database server).
var synonymGroups = [][]string{
	{"E-Akte", "eAkte", "elektronische Akte", "digitale Akte"},
	{"ÖPNV", "Nahverkehr", "öffentlicher Nahverkehr", "öffentlicher Personennahverkehr"},
	{"Klimaanpassung", "Klimaresilienz", "Klimafolgenanpassung"},
	{"Radverkehr", "Fahrrad", "Radfahren", "Fahrradverkehr"},
	{"Photovoltaik", "PV", "Solar", "Solaranlage", "Solarstrom"},
	{"Bürgerbeteiligung", "Partizipation", "Beteiligung", "Öffentlichkeitsbeteiligung"},
	{"Starkregen", "Extremniederschlag", "Extremregen", "Sturzflut"},
	{"Open Data", "offene Daten"},
	{"Hitzeschutz", "Hitzevorsorge", "Hitzeaktionsplan"},
	{"Wärmeplanung", "Wärmeplan", "kommunale Wärmeplanung"},
	{"Ladesäule", "Ladestation", "Ladeinfrastruktur"},
	{"Gründach", "Dachbegrünung"},
	{"KI", "künstliche Intelligenz"},
	{"OZG", "Onlinezugangsgesetz"},
}

// stopWords are left out of queries and, in Meilisearch, of the index:
// PostgreSQL's German stop word list, which its german_stem dictionary
// applies too.
var stopWords = strings.Fields(`aber alle allem allen aller alles als also am an ander andere anderem
	anderen anderer anderes anderm andern anderr anders auch auf aus bei bin bis bist da damit dann der
	den des dem die das daß derselbe derselben denselben desselben demselben dieselbe dieselben dasselbe
	dazu dein deine deinem deinen deiner deines denn derer dessen dich dir du dies diese diesem diesen
	dieser dieses doch dort durch ein eine einem einen einer eines einig einige einigem einigen einiger
	einiges einmal er ihn ihm es etwas euer eure eurem euren eurer eures für gegen gewesen hab habe haben
	hat hatte hatten hier hin hinter ich mich mir ihr ihre ihrem ihren ihrer ihres euch im in indem ins
	ist jede jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen
	keiner keines können könnte machen man manche manchem manchen mancher manches mein meine meinem
	meinen meiner meines mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine
	seinem seinen seiner seines selbst sich sie ihnen sind so solche solchem solchen solcher solches soll
	sollte sondern sonst über um und uns unse unsem unsen unser unses unter viel vom von vor während war
	waren warst was weg weil weiter welche welchem welchen welcher welches wenn werde werden wie wieder
	will wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen`)

// stopKeys holds the folded stop words, for queries typed without umlauts.
var stopKeys = func() map[string]bool {
	m := make(map[string]bool, len(stopWords))
	for _, w := range stopWords {
		m[fold(w)] = true
	}
	return m
}()

// meiliStopWords lists the stop words as written and with umlauts typed as
// ae/oe/ue, as Meilisearch compares words as they are.
func meiliStopWords() []string {
	out := make([]string, 0, len(stopWords)+20)
	for _, w := range stopWords {
		out = append(out, w)
		if t := translit(w); t != w {
			out = append(out, t)
		}
	}
	return out
}

// meiliSynonyms turns the groups into Meilisearch's map from each term to
// all others, with keys also in their ae/oe/ue spelling.
func meiliSynonyms() map[string][]string {
	m := map[string][]string{}
	for _, g := range synonymGroups {
		for _, term := range g {
			var others []string
			for _, o := range g {
				if o != term {
					others = append(others, strings.ToLower(o))
				}
			}
			key := strings.ToLower(term)
			m[key] = append(m[key], others...)
			if t := translit(key); t != key {
				m[t] = append(m[t], append(others, key)...)
			}
		}
	}
	return m
}

// synonymPhrases are the groups as folded word sequences, for matching in a
// tokenized query.
type synonymPhrase struct {
	keys  []string // folded words
	group int
}

var synonymIndex = func() []synonymPhrase {
	var out []synonymPhrase
	for gi, g := range synonymGroups {
		for _, term := range g {
			var keys []string
			for _, t := range tokenize(term) {
				keys = append(keys, t.key)
			}
			out = append(out, synonymPhrase{keys: keys, group: gi})
		}
	}
	return out
}()

// synonymTerm is a one-word term of a synonym group, for typo corrections
// of words that articles may never contain: "Klimaanpasung" is corrected
// to "Klimaanpassung", which no article needs to spell for its group
// ("Klimaresilienz") to match.
type synonymTerm struct {
	display string // as written in the list
	key     string // folded as hansewiki_fold folds (see stemFoldWord)
	group   int
}

var synonymTerms = func() []synonymTerm {
	var out []synonymTerm
	for gi, g := range synonymGroups {
		for _, term := range g {
			if ts := tokenize(term); len(ts) == 1 {
				out = append(out, synonymTerm{display: term, key: stemFoldWord(ts[0].word), group: gi})
			}
		}
	}
	return out
}()

// synonymTypo is the one-word synonym term that w (lower case) is a typo
// of, within Meilisearch's typo budget, the closest first; ok is false
// when w is no such typo (or is a term itself).
func synonymTypo(w string) (t synonymTerm, ok bool) {
	if !expandable(w) {
		return t, false
	}
	key := stemFoldWord(w)
	best := typoBudget(w) + 1
	for _, st := range synonymTerms {
		if st.key == key {
			return t, false
		}
		// Within the budget of both words, as Meilisearch would forgive
		// it either way: "Fahrräder" is two edits from "Fahrrad", which
		// forgives one, so it is a word of its own, not a typo.
		if d := typoDistance(key, st.key); d > 0 && d < best && d <= typoBudget(st.display) {
			t, best, ok = st, d, true
		}
	}
	return t, ok
}

// groupTexts is a synonym group's terms as query alternatives.
func groupTexts(group int) []string {
	var out []string
	for _, term := range synonymGroups[group] {
		out = append(out, strings.ToLower(joinWords(term)))
	}
	return out
}

// synonymTyposFixed returns text with every word that is a typo of a
// synonym term (see synonymTypo) replaced by the term, and whether any was.
// Stop words and words of synonym phrases stay as typed.
func synonymTyposFixed(text string) (string, bool) {
	plan := planFor(text)
	fixes := map[int]string{}
	for _, g := range plan.groups {
		if g.single {
			if st, ok := synonymTypo(g.word); ok {
				fixes[g.pos] = st.display
			}
		}
	}
	if len(fixes) == 0 {
		return text, false
	}
	return plan.corrected(fixes), true
}
