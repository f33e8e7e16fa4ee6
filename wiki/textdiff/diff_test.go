package textdiff

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want []Chunk
	}{
		{"identical", "Hallo Welt", "Hallo Welt", []Chunk{{Equal, "Hallo Welt"}}},
		{"both empty", "", "", nil},
		{"old empty", "", "neuer Text", []Chunk{{Insert, "neuer Text"}}},
		{"new empty", "alter Text", "", []Chunk{{Delete, "alter Text"}}},
		{"insert at start", "Welt", "Hallo Welt",
			[]Chunk{{Insert, "Hallo "}, {Equal, "Welt"}}},
		{"insert in middle", "Die Stadt plant Radwege.", "Die Stadt plant neue Radwege.",
			[]Chunk{{Equal, "Die Stadt plant "}, {Insert, "neue "}, {Equal, "Radwege."}}},
		{"insert at end", "Die Stadt plant.", "Die Stadt plant. Mehr folgt.",
			[]Chunk{{Equal, "Die Stadt plant."}, {Insert, " Mehr folgt."}}},
		{"delete in middle", "Wir haben sehr viel gelernt.", "Wir haben viel gelernt.",
			[]Chunk{{Equal, "Wir haben "}, {Delete, "sehr "}, {Equal, "viel gelernt."}}},
		{"umlauts and ß are one word", "Die Straßenbäume werden gepflegt.", "Die Straßenbäumen werden gepflegt.",
			[]Chunk{{Equal, "Die "}, {Delete, "Straßenbäume"}, {Insert, "Straßenbäumen"}, {Equal, " werden gepflegt."}}},
		{"combining marks belong to the word", "Gru\u0308nfla\u0308che", "Gru\u0308nfla\u0308chen",
			[]Chunk{{Delete, "Gru\u0308nfla\u0308che"}, {Insert, "Gru\u0308nfla\u0308chen"}}},
		{"punctuation is its own token", "Kosten: rund 50.000 €", "Kosten: rund 60.000 €",
			[]Chunk{{Equal, "Kosten: rund "}, {Delete, "50"}, {Insert, "60"}, {Equal, ".000 €"}}},
		{"punctuation change", "Das klappt.", "Das klappt!",
			[]Chunk{{Equal, "Das klappt"}, {Delete, "."}, {Insert, "!"}}},
		{"hyphenated words", "E-Akte eingeführt", "E-Rechnung eingeführt",
			[]Chunk{{Equal, "E-"}, {Delete, "Akte"}, {Insert, "Rechnung"}, {Equal, " eingeführt"}}},
		{"spaces between replaced words are absorbed", "Die Stadt baut neue Radwege", "Der Kreis plant alte Radwege",
			[]Chunk{{Delete, "Die Stadt baut neue"}, {Insert, "Der Kreis plant alte"}, {Equal, " Radwege"}}},
		{"repeated word slides to the end", "a b", "a b b",
			[]Chunk{{Equal, "a b"}, {Insert, " b"}}},
		{"multi-line prose", "Erste Zeile.\nZweite Zeile mit Fehler.\nDritte Zeile.\n",
			"Erste Zeile.\nZweite Zeile ohne Fehler.\nDritte Zeile.\n",
			[]Chunk{{Equal, "Erste Zeile.\nZweite Zeile "}, {Delete, "mit"}, {Insert, "ohne"}, {Equal, " Fehler.\nDritte Zeile.\n"}}},
		{"line breaks are not absorbed", "eins\nzwei", "drei\nvier",
			[]Chunk{{Delete, "eins"}, {Insert, "drei"}, {Equal, "\n"}, {Delete, "zwei"}, {Insert, "vier"}}},
		{"whitespace change", "zwei  Leerzeichen", "zwei Leerzeichen",
			[]Chunk{{Equal, "zwei"}, {Delete, "  "}, {Insert, " "}, {Equal, "Leerzeichen"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Words(tt.a, tt.b)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Words(%q, %q)\n got %q\nwant %q", tt.a, tt.b, got, tt.want)
			}
			checkChunks(t, tt.a, tt.b, got)
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want []Chunk
	}{
		{"identical", "a\nb\n", "a\nb\n", []Chunk{{Equal, "a\nb\n"}}},
		{"both empty", "", "", nil},
		{"old empty", "", "a\nb\n", []Chunk{{Insert, "a\nb\n"}}},
		{"new empty", "a\n", "", []Chunk{{Delete, "a\n"}}},
		{"insert at start", "b\nc\n", "a\nb\nc\n", []Chunk{{Insert, "a\n"}, {Equal, "b\nc\n"}}},
		{"insert in middle", "a\nc\n", "a\nb\nc\n", []Chunk{{Equal, "a\n"}, {Insert, "b\n"}, {Equal, "c\n"}}},
		{"insert at end", "a\nb\n", "a\nb\nc\n", []Chunk{{Equal, "a\nb\n"}, {Insert, "c\n"}}},
		{"change one line", "a\nb\nc\n", "a\nB\nc\n",
			[]Chunk{{Equal, "a\n"}, {Delete, "b\n"}, {Insert, "B\n"}, {Equal, "c\n"}}},
		{"final newline added", "a\nb", "a\nb\n", []Chunk{{Equal, "a\n"}, {Delete, "b"}, {Insert, "b\n"}}},
		{"paragraph inserted after blank line", "A\n\nB\n", "A\n\nX\n\nB\n",
			[]Chunk{{Equal, "A\n\n"}, {Insert, "X\n\n"}, {Equal, "B\n"}}},
		{"line with common prefix", "Rostock plant\n", "Rostock plant viel\n",
			[]Chunk{{Delete, "Rostock plant\n"}, {Insert, "Rostock plant viel\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lines(tt.a, tt.b)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lines(%q, %q)\n got %q\nwant %q", tt.a, tt.b, got, tt.want)
			}
			checkChunks(t, tt.a, tt.b, got)
			checkWholeLines(t, tt.a, tt.b, got)
		})
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		a, b           string
		added, removed int
	}{
		{"Die Straßenbäume blühen.", "Die Straßenbäumen blühen.", 1, 1},
		{"", "Drei neue Wörter", 3, 0},
		{"Zwei Wörter", "", 0, 2},
		{"Kosten: 50.000 €", "Kosten: 60.000 €, gefördert", 2, 1},
		{"gleich", "gleich", 0, 0},
		{"Punkt.", "Punkt!", 0, 0},
	}
	for _, tt := range tests {
		added, removed := Stats(Words(tt.a, tt.b))
		if added != tt.added || removed != tt.removed {
			t.Errorf("Stats(Words(%q, %q)) = +%d −%d, want +%d −%d", tt.a, tt.b, added, removed, tt.added, tt.removed)
		}
	}
}

// checkChunks asserts the invariants of every result: no empty chunks, no
// neighbours with the same op, and both texts rebuilt from the chunks.
func checkChunks(t *testing.T, a, b string, chunks []Chunk) {
	t.Helper()
	var ra, rb strings.Builder
	for i, c := range chunks {
		if c.Text == "" {
			t.Errorf("chunk %d is empty: %q", i, chunks)
		}
		if i > 0 && chunks[i-1].Op == c.Op {
			t.Errorf("chunks %d and %d have the same op: %q", i-1, i, chunks)
		}
		if c.Op != Insert {
			ra.WriteString(c.Text)
		}
		if c.Op != Delete {
			rb.WriteString(c.Text)
		}
	}
	if ra.String() != a {
		t.Errorf("old text not rebuilt:\n got %q\nwant %q", ra.String(), a)
	}
	if rb.String() != b {
		t.Errorf("new text not rebuilt:\n got %q\nwant %q", rb.String(), b)
	}
}

func checkWholeLines(t *testing.T, a, b string, chunks []Chunk) {
	t.Helper()
	pa, pb := 0, 0
	for _, c := range chunks {
		if c.Op != Insert {
			pa += len(c.Text)
		}
		if c.Op != Delete {
			pb += len(c.Text)
		}
		if !lineBoundary(a, pa) || !lineBoundary(b, pb) {
			t.Errorf("chunk %q does not end at a line end", c.Text)
		}
	}
}

// checkWordTokens asserts that no chunk boundary splits a word.
func checkWordTokens(t *testing.T, a, b string, chunks []Chunk) {
	t.Helper()
	pa, pb := 0, 0
	for _, c := range chunks {
		if c.Op != Insert {
			pa += len(c.Text)
		}
		if c.Op != Delete {
			pb += len(c.Text)
		}
		if !wordBoundary(a, pa) || !wordBoundary(b, pb) {
			t.Errorf("chunk %q splits a token", c.Text)
		}
	}
}

var vocabulary = []string{
	"Die", "der", "Stadt", "Straßenbäume", "Gründach", "Öffentlichkeit", "übertragen", "Maß",
	"E-Akte", "2024", "50.000", "€", " ", " ", " ", " ", "  ", "\n", "\n\n", ",", ".", "!", "(", ")",
	"<script>", "&", "\"", "und", "und", "für", "Bürger", "Wasser", "\t", "ä", "ß", "\r\n", "ẞ",
}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(vocabulary[r.Intn(len(vocabulary))])
	}
	return b.String()
}

// mutate edits a token sequence at a few random places, so that the two
// texts are related like two revisions are.
func mutate(r *rand.Rand, s string) string {
	toks := appendWordBounds([]int{0}, s, 0, len(s))
	var parts []string
	for k := 0; k+1 < len(toks); k++ {
		parts = append(parts, s[toks[k]:toks[k+1]])
	}
	for range 1 + r.Intn(6) {
		p := r.Intn(len(parts) + 1)
		switch r.Intn(3) {
		case 0:
			parts = slices.Insert(parts, p, randomText(r, 1+r.Intn(4)))
		case 1:
			if p < len(parts) {
				parts = slices.Delete(parts, p, min(len(parts), p+1+r.Intn(4)))
			}
		default:
			if p < len(parts) {
				parts[p] = randomText(r, 1+r.Intn(3))
			}
		}
	}
	return strings.Join(parts, "")
}

func TestReconstructRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := range 2000 {
		a := randomText(r, r.Intn(60))
		var b string
		switch i % 4 {
		case 0:
			b = randomText(r, r.Intn(60))
		default:
			b = mutate(r, a)
		}
		w := Words(a, b)
		checkChunks(t, a, b, w)
		checkWordTokens(t, a, b, w)
		l := Lines(a, b)
		checkChunks(t, a, b, l)
		checkWholeLines(t, a, b, l)
		checkProse(t, a, b, Prose(a, b))
		if t.Failed() {
			t.Fatalf("case %d: a=%q b=%q", i, a, b)
		}
	}
}

// checkProse asserts that a Prose diff rebuilds both texts line by line
// and numbers the lines consecutively.
func checkProse(t *testing.T, a, b string, lines []Line) {
	t.Helper()
	var oldLines, newLines []string
	for _, l := range lines {
		switch l.Kind {
		case Unchanged, Changed:
			oldLines = append(oldLines, l.OldText())
			newLines = append(newLines, l.NewText())
			if l.Old != len(oldLines) || l.New != len(newLines) {
				t.Errorf("line numbers %d/%d, want %d/%d", l.Old, l.New, len(oldLines), len(newLines))
			}
		case Removed:
			oldLines = append(oldLines, l.OldText())
			if l.Old != len(oldLines) || l.New != 0 {
				t.Errorf("removed line numbered %d/%d", l.Old, l.New)
			}
		case Added:
			newLines = append(newLines, l.NewText())
			if l.New != len(newLines) || l.Old != 0 {
				t.Errorf("added line numbered %d/%d", l.Old, l.New)
			}
		}
		if l.Kind == Unchanged && l.OldText() != l.NewText() {
			t.Errorf("unchanged line differs: %q", l.Chunks)
		}
	}
	if want := linesOf(a); !slices.Equal(oldLines, want) {
		t.Errorf("old lines\n got %q\nwant %q", oldLines, want)
	}
	if want := linesOf(b); !slices.Equal(newLines, want) {
		t.Errorf("new lines\n got %q\nwant %q", newLines, want)
	}
}

func linesOf(s string) []string {
	if s == "" {
		return nil
	}
	return splitLines(s)
}

// TestMinimal compares the core with a quadratic LCS on small inputs: as
// long as the cost cap is not hit the edit script must be shortest.
func TestMinimal(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := range 3000 {
		a := randomIDs(r, r.Intn(30), 4)
		b := randomIDs(r, r.Intn(30), 4)
		if i%2 == 0 {
			b = slices.Clone(a)
			for range r.Intn(5) {
				p := r.Intn(len(b) + 1)
				b = slices.Insert(b, p, int32(r.Intn(6)))
			}
		}
		spans := diffIDs(a, b, maxCost)
		var ra, rb []int32
		pa, pb, edits := 0, 0, 0
		for _, sp := range spans {
			switch sp.op {
			case Equal:
				ra = append(ra, a[pa:pa+sp.n]...)
				rb = append(rb, b[pb:pb+sp.n]...)
				if !slices.Equal(a[pa:pa+sp.n], b[pb:pb+sp.n]) {
					t.Fatalf("equal span differs: a=%v b=%v spans=%v", a, b, spans)
				}
				pa, pb = pa+sp.n, pb+sp.n
			case Delete:
				ra = append(ra, a[pa:pa+sp.n]...)
				pa += sp.n
				edits += sp.n
			case Insert:
				rb = append(rb, b[pb:pb+sp.n]...)
				pb += sp.n
				edits += sp.n
			}
		}
		if !slices.Equal(ra, a) || !slices.Equal(rb, b) {
			t.Fatalf("not rebuilt: a=%v b=%v spans=%v", a, b, spans)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("a=%v b=%v: %d edits, shortest is %d (%v)", a, b, edits, want, spans)
		}
	}
}

func randomIDs(r *rand.Rand, n, alphabet int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(r.Intn(alphabet))
	}
	return s
}

func lcs(a, b []int32) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestCostCap(t *testing.T) {
	// Far apart sequences with a tiny cap: the region falls back to
	// delete-all, insert-all instead of searching on.
	a := randomIDs(rand.New(rand.NewSource(3)), 200, 50)
	b := randomIDs(rand.New(rand.NewSource(4)), 200, 50)
	got := diffIDs(a, b, 4)
	want := []span{{Delete, 200}, {Insert, 200}}
	if !slices.Equal(got, want) {
		t.Errorf("capped diff = %v, want %v", got, want)
	}

	// Unrelated large texts finish quickly and stay correct.
	r := rand.New(rand.NewSource(5))
	x, y := randomText(r, 60000), randomText(r, 60000)
	start := time.Now()
	chunks := Words(x, y)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Words on unrelated 300 KB texts took %v", d)
	}
	checkChunks(t, x, y, chunks)
}

func TestProse(t *testing.T) {
	a := "# Baumpflege\n\nDie Straßenbäume werden jährlich geprüft.\n\nAlter Absatz, der entfällt.\n\nSchluss.\n"
	b := "# Baumpflege\n\nDie Straßenbäumen werden jährlich geprüft.\n\nSchluss.\n\nEin neuer Absatz.\n"
	got := Prose(a, b)
	type row struct {
		kind     Kind
		old, new int
		chunks   []Chunk
	}
	want := []row{
		{Unchanged, 1, 1, []Chunk{{Equal, "# Baumpflege"}}},
		{Unchanged, 2, 2, []Chunk{{Equal, ""}}},
		{Changed, 3, 3, []Chunk{{Equal, "Die "}, {Delete, "Straßenbäume"}, {Insert, "Straßenbäumen"}, {Equal, " werden jährlich geprüft."}}},
		{Removed, 4, 0, []Chunk{{Delete, ""}}},
		{Removed, 5, 0, []Chunk{{Delete, "Alter Absatz, der entfällt."}}},
		{Unchanged, 6, 4, []Chunk{{Equal, ""}}},
		{Unchanged, 7, 5, []Chunk{{Equal, "Schluss."}}},
		{Added, 0, 6, []Chunk{{Insert, ""}}},
		{Added, 0, 7, []Chunk{{Insert, "Ein neuer Absatz."}}},
	}
	if len(got) != len(want) {
		t.Fatalf("Prose returned %d lines, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Old != w.old || g.New != w.new || !slices.Equal(g.Chunks, w.chunks) {
			t.Errorf("line %d = %v %d/%d %q, want %v %d/%d %q", i, g.Kind, g.Old, g.New, g.Chunks, w.kind, w.old, w.new, w.chunks)
		}
	}
	checkProse(t, a, b, got)
}

func TestProsePairing(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		kinds []Kind
	}{
		{"identical", "eins\nzwei\n", "eins\nzwei\n", []Kind{Unchanged, Unchanged}},
		{"empty", "", "", nil},
		{"all new", "", "eins\nzwei", []Kind{Added, Added}},
		{"one word line", "Straßenbäume\n", "Straßenbäumen\n", []Kind{Changed}},
		{"rewritten paragraph is not paired", "Völlig anderer Text hier.\n", "Nichts gleicht dem vorigen Satz!\n", []Kind{Removed, Added}},
		{"pairs found out of position", "Einleitung zum Thema.\nDie Stadt plant Radwege.\n",
			"Die Stadt plant neue Radwege.\n", []Kind{Removed, Changed}},
		{"line break only", "eins\r\nzwei", "eins\nzwei\n", []Kind{Unchanged, Unchanged}},
		{"table row", "| Jahr | Kosten |\n| 2023 | 50.000 € |\n", "| Jahr | Kosten |\n| 2023 | 55.000 € |\n",
			[]Kind{Unchanged, Changed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := Prose(tt.a, tt.b)
			var kinds []Kind
			for _, l := range lines {
				kinds = append(kinds, l.Kind)
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.kinds)
			}
			checkProse(t, tt.a, tt.b, lines)
		})
	}
}

func FuzzDiff(f *testing.F) {
	f.Add("Die Straßenbäume", "Die Straßenbäumen")
	f.Add("a\nb\n\nc", "a\n\nb\nc\n")
	f.Add("x  y", "x y\r\n")
	f.Add("", "neu")
	f.Fuzz(func(t *testing.T, a, b string) {
		checkChunks(t, a, b, Words(a, b))
		l := Lines(a, b)
		checkChunks(t, a, b, l)
		checkWholeLines(t, a, b, l)
		checkProse(t, a, b, Prose(a, b))
	})
}
