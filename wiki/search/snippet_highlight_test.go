package search

import (
	"slices"
	"strings"
	"testing"
)

func TestTsqueryLexemes(t *testing.T) {
	got := tsqueryLexemes(`( 'e' & 'akt' | 'eakt' ) & ( 'kernverwalt':* | 'it''s' ) & 'akt'`)
	want := []lexeme{{"e", false}, {"akt", false}, {"eakt", false}, {"kernverwalt", true}, {"it's", false}}
	if !slices.Equal(got, want) {
		t.Errorf("lexemes = %v, want %v", got, want)
	}
}

// highlight marks the words PostgreSQL's German stemmer would have matched
// and escapes everything else.
func TestHighlight(t *testing.T) {
	for _, c := range []struct {
		text    string
		lexemes []lexeme
		want    string // substring of the result
		not     string // must not be in the result
	}{
		{"Wir haben vierzehn Sensoren installiert.", []lexeme{{"sensor", false}}, "<mark>Sensoren</mark> installiert", ""},
		{"Bürgerinnen und Bürger reichen ein.", []lexeme{{"burgerinn", false}}, "<mark>Bürgerinnen</mark> und Bürger", ""},
		{"Die Akten und die Aktion.", []lexeme{{"akt", false}}, "<mark>Akten</mark>", "<mark>Aktion"},
		{"Die Verwaltung der Kernverwaltung.", []lexeme{{"verwalt", false}}, "Die <mark>Verwaltung</mark> der Kernverwaltung", ""},
		{"Gründachkataster für alle", []lexeme{{"grundach", true}}, "<mark>Gründachkataster</mark>", ""},
		{"An der Straße entlang", []lexeme{{"strass", false}}, "<mark>Straße</mark>", ""},
		{"Es ist das Ende der E-Akte", []lexeme{{"e", false}, {"akt", false}}, "<mark>E</mark>-<mark>Akte</mark>", "<mark>Es"},
		{"Eingaben wie <b>fett</b> & <script>", []lexeme{{"fett", false}}, "&lt;b&gt;<mark>fett</mark>&lt;/b&gt; &amp; &lt;script&gt;", ""},
		{"Nichts passt hier.", []lexeme{{"sensor", false}}, "Nichts passt hier.", "<mark>"},
	} {
		got := string(highlight(c.text, c.lexemes))
		if !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("highlight(%q, %v) = %q, want it to contain %q and not %q", c.text, c.lexemes, got, c.want, c.not)
		}
	}
}

// A long text gives up to two fragments around its matches, in order.
func TestHighlightFragments(t *testing.T) {
	filler := strings.Repeat("und noch mehr Text dazwischen ", 20)
	text := "Anfang " + filler + "hier kommt der Starkregen an " + filler + "und der Pegel steigt " + filler
	got := string(highlight(text, []lexeme{{"starkreg", false}, {"pegel", false}}))
	if strings.Count(got, "<mark>") != 2 || !strings.Contains(got, " … ") ||
		strings.Index(got, "Starkregen") > strings.Index(got, "Pegel") || strings.Contains(got, "Anfang") {
		t.Errorf("fragments = %q", got)
	}
}
