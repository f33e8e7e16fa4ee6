package textdiff

import "strings"

// Marker lines of a conflict block in Merge3's output: the proposal first,
// then the published text. The labels are German because authors read them
// in the editor; Unresolved looks for exactly these lines.
const (
	MarkerOurs   = "<<<<<<< Vorschlag"
	MarkerSep    = "======="
	MarkerTheirs = ">>>>>>> Veröffentlicht"
)

// Merge3 merges two edits of base line by line (diff3): ours is the
// proposal, theirs the text published meanwhile. A stretch changed on one
// side only, or identically on both, is taken as changed; where both sides
// changed the same stretch differently, both versions are written between
// marker lines and counted in conflicts. Lines shared by both versions at
// the start or end of such a stretch stay outside the markers. Line ends
// are read as "\n" ("\r\n" becomes "\n", as the wiki stores bodies); a
// missing final newline is kept unless a conflict block ends the text.
func Merge3(base, ours, theirs string) (merged string, conflicts int) {
	base, ours, theirs = lf(base), lf(ours), lf(theirs)
	switch {
	case ours == theirs, theirs == base:
		return ours, 0
	case ours == base:
		return theirs, 0
	}
	// Whether the text ends in a newline merges like a field of its own, so
	// that adding one to the last line does not collide with an edit of it.
	final := endsLine(ours)
	if final == endsLine(base) {
		final = endsLine(theirs)
	}
	base, ours, theirs = terminate(base), terminate(ours), terminate(theirs)
	ids := make(map[string]int32)
	o, a, b := numberLines(base, ids), numberLines(ours, ids), numberLines(theirs, ids)
	ma, mb := align(o, a, b)

	var out strings.Builder
	out.Grow(max(len(ours), len(theirs)) + 64)
	emit := func(ls []mergeLine) {
		for _, l := range ls {
			out.WriteString(l.text)
		}
	}
	i, j, k := 0, 0, 0 // next line of base, ours, theirs
	for i < len(o) || j < len(a) || k < len(b) {
		// A base line kept in place on both sides is stable.
		if i < len(o) && ma[i] == j && mb[i] == k {
			out.WriteString(o[i].text)
			i, j, k = i+1, j+1, k+1
			continue
		}
		// Otherwise the stretch runs to the next base line that both
		// sides kept (or to the end).
		e, ja, kb := i, len(a), len(b)
		for e < len(o) && (ma[e] < 0 || mb[e] < 0) {
			e++
		}
		if e < len(o) {
			ja, kb = ma[e], mb[e]
		}
		os, as, bs := o[i:e], a[j:ja], b[k:kb]
		switch {
		case sameLines(as, os), sameLines(as, bs):
			emit(bs)
		case sameLines(bs, os):
			emit(as)
		default:
			conflicts++
			pre := 0
			for pre < len(as) && pre < len(bs) && as[pre].id == bs[pre].id {
				pre++
			}
			suf := 0
			for suf < len(as)-pre && suf < len(bs)-pre && as[len(as)-1-suf].id == bs[len(bs)-1-suf].id {
				suf++
			}
			emit(as[:pre])
			out.WriteString(MarkerOurs + "\n")
			writeBlock(&out, as[pre:len(as)-suf])
			out.WriteString(MarkerSep + "\n")
			writeBlock(&out, bs[pre:len(bs)-suf])
			out.WriteString(MarkerTheirs + "\n")
			emit(as[len(as)-suf:])
		}
		i, j, k = e, ja, kb
	}
	merged = out.String()
	if !final && !strings.HasSuffix(merged, MarkerTheirs+"\n") {
		merged = strings.TrimSuffix(merged, "\n")
	}
	return merged, conflicts
}

// endsLine reports whether s has no unterminated last line.
func endsLine(s string) bool { return s == "" || strings.HasSuffix(s, "\n") }

func terminate(s string) string {
	if endsLine(s) {
		return s
	}
	return s + "\n"
}

// Unresolved reports whether s still holds a line of a conflict block that
// Merge3 wrote (the opening or the closing marker). The separator alone
// does not count: "=======" under a line is a Markdown heading.
func Unresolved(s string) bool {
	for len(s) > 0 {
		l := s
		if n := strings.IndexByte(s, '\n'); n >= 0 {
			l, s = s[:n], s[n+1:]
		} else {
			s = ""
		}
		l = strings.TrimRight(l, " \t\r")
		if l == MarkerOurs || l == MarkerTheirs {
			return true
		}
	}
	return false
}

// writeBlock writes one side of a conflict; its last line gets a newline
// so that the marker after it stays on a line of its own.
func writeBlock(out *strings.Builder, ls []mergeLine) {
	for _, l := range ls {
		out.WriteString(l.text)
	}
	if n := len(ls); n > 0 && !strings.HasSuffix(ls[n-1].text, "\n") {
		out.WriteByte('\n')
	}
}

type mergeLine struct {
	text string // with its "\n", if any
	id   int32
}

func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// numberLines cuts s into lines and numbers them: equal lines, equal ids.
func numberLines(s string, ids map[string]int32) []mergeLine {
	out := make([]mergeLine, 0, strings.Count(s, "\n")+1)
	for len(s) > 0 {
		n := strings.IndexByte(s, '\n') + 1
		if n == 0 {
			n = len(s)
		}
		t := s[:n]
		id, ok := ids[t]
		if !ok {
			id = int32(len(ids))
			ids[t] = id
		}
		out = append(out, mergeLine{t, id})
		s = s[n:]
	}
	return out
}

// align diffs base against both sides and returns, for each line of base,
// the line of ours and of theirs it is kept as (-1: deleted or changed).
// Where a side's insertion or deletion could sit in several places (a
// blank line deleted before or after a paragraph), it is moved to one
// that does not touch the other side's edits, so that edits of separate
// paragraphs do not meet in one conflict only because of where the diff
// happened to put them.
func align(o, a, b []mergeLine) (ma, mb []int) {
	x, y, z := lineIDs(o), lineIDs(a), lineIDs(b)
	sa, sb := diffIDs(x, y, maxCost), diffIDs(x, z, maxCost)
	// Each side moves away from where the other's edits first stood, so
	// that swapping the sides only swaps them in the result.
	sa, sb = separate(sa, x, y, sb), separate(sb, x, z, sa)
	return matches(sa, len(x)), matches(sb, len(x))
}

func lineIDs(ls []mergeLine) []int32 {
	ids := make([]int32, len(ls))
	for i, l := range ls {
		ids[i] = l.id
	}
	return ids
}

// matches turns an edit script of base into the line of the side each base
// line is kept as, or -1.
func matches(spans []span, n int) []int {
	m := make([]int, n)
	i, j := 0, 0
	for _, sp := range spans {
		for d := 0; d < sp.n; d++ {
			switch sp.op {
			case Equal:
				m[i], i, j = j, i+1, j+1
			case Delete:
				m[i], i = -1, i+1
			case Insert:
				j++
			}
		}
	}
	return m
}

// separate slides each pure insertion or deletion of spans (base → side)
// to the nearest equivalent place where it does not touch an edit of
// other (base → the other side), if it touches one where it is.
func separate(spans []span, base, side []int32, other []span) []span {
	// touched[q] counts the base lines before q that the other side does
	// not keep; inserts[q] the places before q where it inserts.
	touched, inserts := make([]int, len(base)+1), make([]int, len(base)+2)
	i := 0
	for _, sp := range other {
		switch sp.op {
		case Equal:
			for d := 1; d <= sp.n; d++ {
				touched[i+d] = touched[i]
			}
			i += sp.n
		case Delete:
			for d := 1; d <= sp.n; d++ {
				touched[i+d] = touched[i] + d
			}
			i += sp.n
		case Insert:
			inserts[i+1] = 1
		}
	}
	for q := 1; q < len(inserts); q++ {
		inserts[q] += inserts[q-1]
	}
	// apart reports whether a hunk over base lines [p, p+n) leaves a line
	// kept by both sides between it and every edit of the other side.
	apart := func(p, n int) bool {
		lo, hi := max(p-1, 0), min(p+n+1, len(base))
		return touched[hi] == touched[lo] && inserts[p+n+1] == inserts[p]
	}
	sp := make([]span, 0, len(spans)+2)
	sp = append(sp, span{Equal, 0})
	sp = append(sp, spans...)
	sp = append(sp, span{Equal, 0})
	i, j := 0, 0 // positions of sp[k] in base and side
	for k := 1; k+1 < len(sp); k++ {
		op, n := sp[k].op, sp[k].n
		if op != Equal && sp[k-1].op == Equal && sp[k+1].op == Equal {
			t, pos, bn := base, i, n // the sequence the hunk's lines are in
			if op == Insert {
				t, pos, bn = side, j, 0
			}
			if !apart(i, bn) {
				l, r := sp[k-1].n, sp[k+1].n
				best, found := 0, false
				for d := 1; d <= l && t[pos-d] == t[pos+n-d]; d++ {
					if apart(i-d, bn) {
						best, found = -d, true
						break
					}
				}
				for d := 1; d <= r && t[pos+d-1] == t[pos+n+d-1]; d++ {
					if apart(i+d, bn) && (!found || d < -best) {
						best, found = d, true
						break
					}
				}
				if found {
					sp[k-1].n += best
					sp[k+1].n -= best
					i, j = i+best, j+best
				}
			}
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

func sameLines(x, y []mergeLine) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].id != y[i].id {
			return false
		}
	}
	return true
}
