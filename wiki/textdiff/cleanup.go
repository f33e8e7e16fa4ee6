package textdiff

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalize drops empty spans, merges neighbours with the same op and puts
// the deletion of each change before its insertion.
func normalize(spans []span) []span {
	out := spans[:0:0]
	del, ins := 0, 0
	flush := func() {
		if del > 0 {
			out = append(out, span{Delete, del})
		}
		if ins > 0 {
			out = append(out, span{Insert, ins})
		}
		del, ins = 0, 0
	}
	for _, sp := range spans {
		switch {
		case sp.n == 0:
		case sp.op == Delete:
			del += sp.n
		case sp.op == Insert:
			ins += sp.n
		default:
			flush()
			if k := len(out) - 1; k >= 0 && out[k].op == Equal {
				out[k].n += sp.n
			} else {
				out = append(out, sp)
			}
		}
	}
	flush()
	return out
}

// absorbSpace folds spaces and punctuation between two changes into them,
// so that "the quick brown" → "a slow red" reads as one replacement, not
// three. Line breaks and words are kept, and pure insertions or deletions
// stay pure.
func absorbSpace(spans []span, ta *side) []span {
	out := make([]span, 0, len(spans))
	i := 0
	for k, sp := range spans {
		if sp.op == Equal && k > 0 && k+1 < len(spans) && spans[k+1].op != Equal && filler(ta.text(i, i+sp.n)) {
			var dels, inss bool
			for _, s := range spans[max(0, k-2):min(len(spans), k+3)] {
				dels = dels || s.op == Delete
				inss = inss || s.op == Insert
			}
			if dels && inss {
				out = append(out, span{Delete, sp.n}, span{Insert, sp.n})
				i += sp.n
				continue
			}
		}
		out = append(out, sp)
		if sp.op != Insert {
			i += sp.n
		}
	}
	return out
}

// filler reports whether s is short and holds neither words nor line breaks.
func filler(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, r := range s {
		if r == '\n' || r == '\r' || class(r) == classWord {
			return false
		}
	}
	return true
}

// slide moves each pure insertion or deletion along the text where that
// gives the same texts back ("a b" → "a b b": either "b" may be the new one)
// to the position whose edges are the clearest breaks: blank lines, line
// breaks, sentence ends, spaces. Scoring follows diff-match-patch's
// cleanupSemanticLossless; on ties the later position wins.
func slide(spans []span, ta, tb *side) []span {
	sp := make([]span, 0, len(spans)+2)
	sp = append(sp, span{Equal, 0})
	sp = append(sp, spans...)
	sp = append(sp, span{Equal, 0})
	i, j := 0, 0 // positions of sp[k] in ta and tb
	for k := 1; k+1 < len(sp); k++ {
		op, n := sp[k].op, sp[k].n
		if op != Equal && sp[k-1].op == Equal && sp[k+1].op == Equal {
			t, pos := ta, i
			if op == Insert {
				t, pos = tb, j
			}
			l, r := sp[k-1].n, sp[k+1].n
			for l > 0 && t.ids[pos-1] == t.ids[pos+n-1] {
				pos, l, r = pos-1, l-1, r+1
			}
			bestL, bestR := l, r
			best := edgeScore(t.text(pos-l, pos), t.text(pos, pos+n)) +
				edgeScore(t.text(pos, pos+n), t.text(pos+n, pos+n+r))
			for r > 0 && t.ids[pos] == t.ids[pos+n] {
				pos, l, r = pos+1, l+1, r-1
				s := edgeScore(t.text(pos-l, pos), t.text(pos, pos+n)) +
					edgeScore(t.text(pos, pos+n), t.text(pos+n, pos+n+r))
				if s >= best {
					best, bestL, bestR = s, l, r
				}
			}
			shift := bestL - sp[k-1].n
			sp[k-1].n, sp[k+1].n = bestL, bestR
			i, j = i+shift, j+shift
		}
		if op != Insert {
			i += n
		}
		if op != Delete {
			j += n
		}
	}
	return sp
}

// edgeScore rates the break between one and two from 6 (a text edge) down
// to 0 (inside a word).
func edgeScore(one, two string) int {
	if one == "" || two == "" {
		return 6
	}
	c1, _ := utf8.DecodeLastRuneInString(one)
	c2, _ := utf8.DecodeRuneInString(two)
	alnum := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }
	nonAlnum1, nonAlnum2 := !alnum(c1), !alnum(c2)
	space1 := nonAlnum1 && unicode.IsSpace(c1)
	space2 := nonAlnum2 && unicode.IsSpace(c2)
	break1 := space1 && (c1 == '\r' || c1 == '\n')
	break2 := space2 && (c2 == '\r' || c2 == '\n')
	blank1 := break1 && (strings.HasSuffix(one, "\n\n") || strings.HasSuffix(one, "\n\r\n"))
	blank2 := break2 && startsWithBlankLine(two)
	switch {
	case blank1 || blank2:
		return 5
	case break1 || break2:
		return 4
	case nonAlnum1 && !space1 && space2:
		return 3
	case space1 || space2:
		return 2
	case nonAlnum1 || nonAlnum2:
		return 1
	}
	return 0
}

func startsWithBlankLine(s string) bool {
	s = strings.TrimPrefix(s, "\r")
	if !strings.HasPrefix(s, "\n") {
		return false
	}
	s = strings.TrimPrefix(s[1:], "\r")
	return strings.HasPrefix(s, "\n")
}
