package textdiff

import (
	"math/rand"
	"strings"
	"testing"
)

var benchWords = strings.Fields(`Die Stadt hat im Rahmen des Projekts eine Starkregengefahrenkarte
erstellt und mit den Stadtwerken abgestimmt. Bürgerinnen und Bürger können Hinweise melden,
die Verwaltung prüft sie und übernimmt geeignete Maßnahmen in die Planung. Straßenbäume,
Gründächer und Versickerungsflächen gehören dazu, ebenso die E-Akte für Genehmigungen.
Für 2024 sind rund 50.000 € vorgesehen; Fördermittel wurden beantragt.`)

// germanText returns about size bytes of Markdown-like German prose:
// paragraphs of one long line, headings and list items.
func germanText(r *rand.Rand, size int) string {
	var b strings.Builder
	for b.Len() < size {
		switch r.Intn(8) {
		case 0:
			b.WriteString("## ")
			b.WriteString(benchWords[r.Intn(len(benchWords))])
			b.WriteString("\n\n")
		case 1:
			for range 1 + r.Intn(4) {
				b.WriteString("- ")
				for k := range 3 + r.Intn(6) {
					if k > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(benchWords[r.Intn(len(benchWords))])
				}
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		default:
			for k := range 40 + r.Intn(80) {
				if k > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(benchWords[r.Intn(len(benchWords))])
			}
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

// replaceWordAt replaces the word starting after the first space at or
// after byte i.
func replaceWordAt(s string, i int, word string) string {
	i += strings.IndexByte(s[i:], ' ') + 1
	j := i + strings.IndexAny(s[i:], " \n")
	return s[:i] + word + s[j:]
}

func BenchmarkWords1MiBOneChange(b *testing.B) {
	old := germanText(rand.New(rand.NewSource(1)), 1<<20)
	neu := replaceWordAt(old, len(old)/2, "Straßenbäumen")
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if chunks := Words(old, neu); len(chunks) != 4 {
			b.Fatalf("got %d chunks", len(chunks))
		}
	}
}

func BenchmarkLines1MiBOneChange(b *testing.B) {
	old := germanText(rand.New(rand.NewSource(1)), 1<<20)
	neu := replaceWordAt(old, len(old)/2, "Straßenbäumen")
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		Lines(old, neu)
	}
}

// BenchmarkWords1MiBScattered edits 200 places spread over the article.
func BenchmarkWords1MiBScattered(b *testing.B) {
	old := germanText(rand.New(rand.NewSource(1)), 1<<20)
	neu := old
	for k := range 200 {
		neu = replaceWordAt(neu, k*len(old)/200, "geändert")
	}
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		Words(old, neu)
	}
}

// BenchmarkWordsUnrelated100KB is the worst case: two unrelated texts, where
// the cost cap ends the search.
func BenchmarkWordsUnrelated100KB(b *testing.B) {
	old := germanText(rand.New(rand.NewSource(1)), 100<<10)
	neu := germanText(rand.New(rand.NewSource(2)), 100<<10)
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		Words(old, neu)
	}
}

// BenchmarkProse20KB diffs a typical article after a review round: words
// changed in several paragraphs, one paragraph added, one removed.
func BenchmarkProse20KB(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	old := germanText(r, 20<<10)
	paras := strings.Split(old, "\n\n")
	for k := 1; k < len(paras)-1; k += len(paras) / 6 {
		if len(paras[k]) > 60 {
			paras[k] = replaceWordAt(paras[k], len(paras[k])/2, "Klimaanpassung")
		}
	}
	paras[len(paras)/3] = "Ein neuer Absatz über Gründächer und Zisternen."
	paras = append(paras[:len(paras)/2], paras[len(paras)/2+1:]...)
	neu := strings.Join(paras, "\n\n")
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		HTML(Prose(old, neu))
	}
}
