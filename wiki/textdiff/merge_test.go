package textdiff

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// block writes a conflict block as Merge3 does.
func block(ours, theirs string) string {
	return MarkerOurs + "\n" + ours + MarkerSep + "\n" + theirs + MarkerTheirs + "\n"
}

func TestMerge3(t *testing.T) {
	const base = "# Pegel\n\nDer Pegel misst stündlich.\n\nDaten gehen ans Land.\n\nKontakt: Amt 66.\n"
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string
		conflicts          int
	}{
		{"nobody changed anything", base, base, base, base, 0},
		{"only the proposal changed", base,
			strings.Replace(base, "stündlich", "alle 15 Minuten", 1), base,
			strings.Replace(base, "stündlich", "alle 15 Minuten", 1), 0},
		{"only the publication changed", base, base,
			strings.Replace(base, "Amt 66", "Amt 67", 1),
			strings.Replace(base, "Amt 66", "Amt 67", 1), 0},
		{"different paragraphs merge by themselves", base,
			strings.Replace(base, "stündlich", "alle 15 Minuten", 1),
			strings.Replace(base, "Amt 66", "Amt 67", 1),
			"# Pegel\n\nDer Pegel misst alle 15 Minuten.\n\nDaten gehen ans Land.\n\nKontakt: Amt 67.\n", 0},
		{"the same correction on both sides is taken once", base,
			strings.Replace(base, "Amt 66", "Amt 67", 1),
			strings.Replace(base, "Amt 66", "Amt 67", 1),
			strings.Replace(base, "Amt 66", "Amt 67", 1), 0},
		{"the same correction plus one more on one side", base,
			strings.Replace(strings.Replace(base, "Amt 66", "Amt 67", 1), "# Pegel", "# Warnow-Pegel", 1),
			strings.Replace(base, "Amt 66", "Amt 67", 1),
			strings.Replace(strings.Replace(base, "Amt 66", "Amt 67", 1), "# Pegel", "# Warnow-Pegel", 1), 0},
		{"the same line changed differently is marked", base,
			strings.Replace(base, "stündlich", "alle 15 Minuten", 1),
			strings.Replace(base, "stündlich", "jede Stunde", 1),
			"# Pegel\n\n" + block("Der Pegel misst alle 15 Minuten.\n", "Der Pegel misst jede Stunde.\n") +
				"\nDaten gehen ans Land.\n\nKontakt: Amt 66.\n", 1},
		{"two overlapping edits are two conflicts", base,
			strings.NewReplacer("stündlich", "oft", "Amt 66", "Amt 1").Replace(base),
			strings.NewReplacer("stündlich", "selten", "Amt 66", "Amt 2").Replace(base),
			"# Pegel\n\n" + block("Der Pegel misst oft.\n", "Der Pegel misst selten.\n") +
				"\nDaten gehen ans Land.\n\n" + block("Kontakt: Amt 1.\n", "Kontakt: Amt 2.\n"), 2},
		// Adjacent lines with no unchanged line between them are one stretch:
		// whether they belong together is for the author to judge.
		{"edits of adjacent lines conflict", "a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nC\nd\n",
			"a\n" + block("B\nc\n", "b\nC\n") + "d\n", 1},
		{"one unchanged line between edits keeps them apart", "a\nb\nc\nd\n", "A\nb\nc\nd\n", "a\nb\nC\nd\n",
			"A\nb\nC\nd\n", 0},
		{"insertions at the same place conflict", "a\nb\n", "a\nX\nb\n", "a\nY\nb\n",
			"a\n" + block("X\n", "Y\n") + "b\n", 1},
		{"insertions at different places merge", "a\nb\nc\n", "X\na\nb\nc\n", "a\nb\nc\nY\n",
			"X\na\nb\nc\nY\n", 0},
		{"a deletion and an edit of another paragraph merge", base,
			strings.Replace(base, "Daten gehen ans Land.\n\n", "", 1),
			strings.Replace(base, "Amt 66", "Amt 67", 1),
			"# Pegel\n\nDer Pegel misst stündlich.\n\nKontakt: Amt 67.\n", 0},
		{"deleting what the other side edited conflicts", base,
			strings.Replace(base, "Daten gehen ans Land.\n", "", 1),
			strings.Replace(base, "ans Land", "an das Land", 1),
			"# Pegel\n\nDer Pegel misst stündlich.\n\n" + block("", "Daten gehen an das Land.\n") + "\nKontakt: Amt 66.\n", 1},
		{"both deleting the same line merges", "a\nb\nc\n", "a\nc\n", "a\nc\n", "a\nc\n", 0},
		{"common lines of both versions stay outside the markers", "a\nb\nc\n", "a\nX\nY\nc\n", "a\nX\nZ\nc\n",
			"a\nX\n" + block("Y\n", "Z\n") + "c\n", 1},
		{"CRLF reads as LF", "a\r\nb\r\nc\r\n", "A\r\nb\r\nc\r\n", "a\nb\nC\n", "A\nb\nC\n", 0},
		{"a missing final newline is kept", "a\nb\nc", "A\nb\nc", "a\nb\nC", "A\nb\nC", 0},
		{"a conflict in a last line without newline", "a\nb", "a\nB", "a\nC",
			"a\n" + block("B\n", "C\n"), 1},
		{"adding a final newline on one side", "a\nb", "a\nb\n", "A\nb", "A\nb\n", 0},
		{"empty base, two different new articles", "", "Neu\n", "Anders\n", block("Neu\n", "Anders\n"), 1},
		{"empty base, the same new text", "", "Neu\n", "Neu\n", "Neu\n", 0},
		{"one side emptied the text, the other edited it", "a\nb\n", "", "a\nB\n", block("", "a\nB\n"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := Merge3(tt.base, tt.ours, tt.theirs)
			if got != tt.want || n != tt.conflicts {
				t.Errorf("Merge3 = %d conflicts\n%s\nwant %d\n%s", n, got, tt.conflicts, tt.want)
			}
			if Unresolved(got) != (n > 0) {
				t.Errorf("Unresolved(%q) = %v with %d conflicts", got, Unresolved(got), n)
			}
			// The proposal and the publication swap places in the markers,
			// nothing else changes.
			swapped, m := Merge3(tt.base, tt.theirs, tt.ours)
			if m != n || (n == 0 && swapped != got) {
				t.Errorf("swapped sides: %d conflicts\n%s", m, swapped)
			}
		})
	}
}

func TestUnresolved(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"", false},
		{"Titel\n=======\n\nText", false}, // a setext heading
		{"```\n<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> main\n```\n", false},
		{block("a\n", "b\n"), true},
		{"Text\n" + MarkerOurs + "\nnur der Anfang blieb stehen\n", true},
		{"nur das Ende blieb stehen\n" + MarkerTheirs, true},
		{MarkerTheirs + " \r\n", true},
		{"Im Text: " + MarkerOurs + "\n", false},
	}
	for _, tt := range tests {
		if got := Unresolved(tt.s); got != tt.want {
			t.Errorf("Unresolved(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// Edits of separate lines, with an untouched line between any two, merge
// without conflict into exactly the text with both sides' edits applied.
func TestMerge3SeparateEditsMergeExactly(t *testing.T) {
	rnd := rand.New(rand.NewSource(9))
	for round := range 2000 {
		n := 1 + rnd.Intn(30)
		base := make([]string, n)
		for i := range base {
			base[i] = fmt.Sprintf("Zeile %d\n", i)
		}
		// Each base line is edited (replaced, deleted, or followed by
		// inserted lines) by at most one side, two lines apart from any
		// edit of the other side.
		owner := make([]int, n) // 0 nobody, 1 ours, 2 theirs
		for i := range owner {
			if rnd.Intn(3) == 0 {
				side := 1 + rnd.Intn(2)
				if (i > 0 && owner[i-1] != 0 && owner[i-1] != side) || (i > 1 && owner[i-2] != 0 && owner[i-2] != side) {
					continue
				}
				owner[i] = side
			}
		}
		var ours, theirs, want strings.Builder
		for i, l := range base {
			edit := l
			switch rnd.Intn(3) {
			case 0:
				edit = fmt.Sprintf("neu %d.%d\n", round, i)
			case 1:
				edit = ""
			case 2:
				edit = l + fmt.Sprintf("dazu %d.%d\n", round, i)
			}
			switch owner[i] {
			case 1:
				ours.WriteString(edit)
				theirs.WriteString(l)
				want.WriteString(edit)
			case 2:
				ours.WriteString(l)
				theirs.WriteString(edit)
				want.WriteString(edit)
			default:
				ours.WriteString(l)
				theirs.WriteString(l)
				want.WriteString(l)
			}
		}
		b := strings.Join(base, "")
		got, conflicts := Merge3(b, ours.String(), theirs.String())
		if conflicts != 0 || got != want.String() {
			t.Fatalf("round %d: %d conflicts\nbase:\n%s\nours:\n%s\ntheirs:\n%s\ngot:\n%s\nwant:\n%s",
				round, conflicts, b, ours.String(), theirs.String(), got, want.String())
		}
	}
}

func lineSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, l := range strings.SplitAfter(s, "\n") {
		set[strings.TrimSuffix(l, "\n")] = true
	}
	return set
}

// checkMerge states what holds for any three texts.
func checkMerge(t *testing.T, base, ours, theirs string) {
	got, n := Merge3(base, ours, theirs)
	if n < 0 {
		t.Fatalf("negative conflict count %d", n)
	}
	if n > 0 && !Unresolved(got) {
		t.Fatalf("%d conflicts but no markers:\n%q", n, got)
	}
	swapped, m := Merge3(base, theirs, ours)
	if m != n || (n == 0 && swapped != got) {
		t.Fatalf("not symmetric: %d vs %d conflicts\n%q\n%q\nbase %q\nours %q\ntheirs %q", n, m, got, swapped, base, ours, theirs)
	}
	if n > 0 {
		return
	}
	// A clean merge holds every line either side added, and nothing that
	// neither side has.
	merged, b := lineSet(got), lineSet(lf(base))
	o, th := lineSet(lf(ours)), lineSet(lf(theirs))
	for _, side := range []map[string]bool{o, th} {
		for l := range side {
			if !b[l] && !merged[l] {
				t.Fatalf("added line %q lost:\nbase %q\nours %q\ntheirs %q\ngot %q", l, base, ours, theirs, got)
			}
		}
	}
	for l := range merged {
		if !o[l] && !th[l] {
			t.Fatalf("line %q from nowhere: %q", l, got)
		}
	}
}

func FuzzMerge3(f *testing.F) {
	f.Add("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n")
	f.Add("a\nb\n", "a\nX\nb\n", "a\nY\nb\n")
	f.Add("", "neu", "neu\n")
	f.Add("x\r\ny", "x\ny\n", "x\r\nz")
	f.Add("\n\n\n", "\n\nx\n\n", "\nx\n\n")
	f.Fuzz(func(t *testing.T, base, ours, theirs string) {
		checkMerge(t, base, ours, theirs)
		// Merging a text with itself is the text; one side unchanged
		// gives the other side.
		for _, x := range []string{base, ours, theirs} {
			if got, n := Merge3(x, x, x); got != lf(x) || n != 0 {
				t.Fatalf("Merge3(x, x, x) = %q, %d for %q", got, n, x)
			}
		}
		if got, n := Merge3(base, ours, base); got != lf(ours) || n != 0 {
			t.Fatalf("publication unchanged: %q, %d", got, n)
		}
		if got, n := Merge3(base, base, theirs); got != lf(theirs) || n != 0 {
			t.Fatalf("proposal unchanged: %q, %d", got, n)
		}
	})
}

// Random texts of a few repeating lines exercise ambiguous alignments.
func TestMerge3RandomTexts(t *testing.T) {
	rnd := rand.New(rand.NewSource(12))
	alphabet := []string{"a\n", "b\n", "\n", "c", "a"}
	text := func() string {
		var sb strings.Builder
		for range rnd.Intn(12) {
			sb.WriteString(alphabet[rnd.Intn(len(alphabet))])
		}
		return sb.String()
	}
	for range 20000 {
		checkMerge(t, text(), text(), text())
	}
}
