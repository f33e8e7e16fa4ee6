package markdown

import "bytes"

// A budget on inline syntax per document. goldmark builds a node of
// several hundred bytes for every bracket, delimiter run, code span, raw
// HTML tag and autolink, so a 1 MiB body of nothing but "[a " grew a tree
// of 350,000 nodes (about 240 MB allocated). limitSyntax counts the
// openers of each kind in a cheap linear pass and backslash-escapes those
// beyond the budget, so the rest of the document is text and goldmark
// never builds their nodes.
//
// syntaxBudget is per kind and per document. The 20 KB test article
// (testdata/artikel-20kb.md) has 24 brackets and 68 emphasis characters,
// so a 1 MiB article written like it has about 1,300 and 3,500; a list of
// a whole city's streets as wiki links has a few thousand. 10,000 leaves
// room for such lists and costs at most a few MiB of nodes per kind.
const syntaxBudget = 10_000

// maxHeadings is the budget of headings: each costs a node, an ID and a
// TOC entry (50,000 "# x" allocated 57 MB). The test article has 27 in
// 20 KB, about 1,400 per MiB.
const maxHeadings = 5_000

// maxLines is the budget of lines. goldmark keeps a segment, a text node
// and some state for every line and every block open on it (about 500
// bytes allocated per line, more in nested lists), so 500,000 lines of "a"
// allocated 270 MB whatever the syntax. A line counts once and once more
// for every level of nesting (quote or two columns of indentation); beyond
// maxLines, line ends are spaces: the rest of the document is one line of
// text. The test article has 73 bytes per line, so 1 MiB written like it
// has 14,000 lines; 50,000 allows lines of 21 bytes, or fewer nested ones.
// Fenced code keeps its lines up to twice that.
const maxLines = 50_000

// codeBudget bounds what limitSyntax takes for code, counted apart from
// the rest. Inside code blocks and code spans escaping would show as a
// backslash, so it is left alone there, but only up to this count: the
// pass models code roughly (no HTML blocks, lists only by their markers),
// and what it wrongly takes for code must not escape the budget.
const codeBudget = 2 * syntaxBudget

// The kinds of openers, each with its own budget.
const (
	kindBracket  = iota // "[", also "![", "[^", "[[" (counted once)
	kindEmphasis        // "*" or "_", each: a run of n can nest n/2 emphases
	kindStrike          // "~", each
	kindCodeSpan        // a run of backticks
	kindAngle           // "<": raw HTML and autolinks
	kindLinkify         // "www.", "://", "@": bare links and e-mail addresses
	kindHeading         // "#" or a setext underline starting a line
	numKinds
)

// limitSyntax returns src itself when no kind of syntax can exceed the
// budget, which the first, byte-counting check decides for every real
// article; otherwise src with the openers beyond the budget escaped.
func limitSyntax(src []byte) []byte {
	return limitSyntaxTo(src, syntaxBudget, codeBudget)
}

// limitSyntaxTo is limitSyntax with the budgets given (tests use small ones).
func limitSyntaxTo(src []byte, budget, inCode int) []byte {
	if !mayExceedBudget(src, budget) {
		return src
	}
	return newSyntaxLimiter(budget, inCode).limit(src)
}

// newSyntaxLimiter scales the budgets of headings and lines with budget.
func newSyntaxLimiter(budget, inCode int) *syntaxLimiter {
	return &syntaxLimiter{budget: budget, codeBudget: inCode,
		headings: budget * maxHeadings / syntaxBudget, lines: budget * maxLines / syntaxBudget}
}

// mayExceedBudget counts bytes, an upper bound of every kind's openers.
func mayExceedBudget(src []byte, budget int) bool {
	count := func(s string) int { return bytes.Count(src, []byte(s)) }
	return count("[") > budget ||
		count("*")+count("_") > budget ||
		count("~") > budget ||
		count("`") > budget ||
		count("<") > budget ||
		count("www.")+count("://")+count("@") > budget ||
		// A line weighs at most 1+maxNesting.
		count("\n")*(1+maxNesting) > budget*maxLines/syntaxBudget
}

// syntaxLimiter is the state of one pass over a document.
type syntaxLimiter struct {
	budget, codeBudget int
	headings, lines    int // maxHeadings and maxLines, or smaller in tests

	src    []byte
	out    []byte        // nil until an opener is escaped
	copied int           // src[:copied] is in out
	count  [numKinds]int // openers outside code
	inCode [numKinds]int // openers in what looks like code

	// Fenced code block: open while fenceLen > 0. A line with fewer quote
	// markers or less indentation than its opening line closes it (the
	// container ended), as does a fence of the same kind.
	fenceChar             byte
	fenceLen              int
	fenceQuotes, fenceCol int

	prevBlank, prevCode bool
	containers          bool // a list item or footnote seen: indentation is no longer code

	runs  []codeRun // backtick runs of the current line
	later map[int]int
}

type codeRun struct{ pos, n, closer int } // closer: index in runs, or -1

func (l *syntaxLimiter) limit(src []byte) []byte {
	l.src, l.prevBlank = src, true
	for start, n := 0, 0; start < len(src); {
		if n >= l.lines && (l.fenceLen == 0 || n >= 2*l.lines) {
			// The rest is one line: a copy of src with its line ends as
			// spaces (same length, so the offsets stay).
			joined := make([]byte, len(src))
			copy(joined, src[:start])
			for i, c := range src[start:] {
				if c == '\n' || c == '\r' {
					c = ' '
				}
				joined[start+i] = c
			}
			l.src, l.fenceLen = joined, 0
			l.line(start, joined[start:])
			break
		}
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		n += l.line(start, src[start:end])
		start = end + 1
	}
	if l.out == nil {
		return l.src
	}
	return append(l.out, l.src[l.copied:]...)
}

// line handles one line starting at src[off] and returns its weight
// against maxLines.
func (l *syntaxLimiter) line(off int, line []byte) (weight int) {
	// Container prefix: indentation and quote markers.
	i, col, quotes, ind := 0, 0, 0, 0
	for ; i < len(line); i++ {
		switch line[i] {
		case ' ':
			col++
			ind++
			continue
		case '\t':
			ind += 4 - col%4
			col += 4 - col%4
			continue
		case '>':
			quotes++
			col++
			ind = -1 // the space after ">" belongs to the marker
			continue
		}
		break
	}
	ind = max(ind, 0)
	weight = 1 + min(maxNesting, quotes+col/2)
	rest := line[i:]
	blank := len(bytes.TrimSpace(rest)) == 0

	if l.fenceLen > 0 {
		if quotes >= l.fenceQuotes && (blank || col >= l.fenceCol) {
			if isFence(rest, l.fenceChar, l.fenceLen) {
				l.fenceLen = 0
			} else {
				l.inline(off+i, rest, true)
			}
			return
		}
		l.fenceLen = 0 // its container ended; the line is read as usual
	}
	if blank {
		l.prevBlank = true
		return
	}
	if ind <= 3 && !l.prevBlank && isSetextUnderline(rest) {
		l.heading(off + i)
		l.prevBlank = false
		return
	}
	if ind >= 4 && (l.prevBlank || l.prevCode) && !l.containers {
		l.prevBlank, l.prevCode = false, true
		l.inline(off+i, rest, true)
		return
	}
	l.prevBlank, l.prevCode = false, false
	if isThematicBreak(rest) {
		return // "***" or "_ _ _" is no emphasis
	}
	// List markers, and quotes after them, are no inline syntax.
	for {
		n := listMarker(rest)
		if n == 0 {
			break
		}
		l.containers = true
		i += n
		col += n
		ind = 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '>') {
			if line[i] == ' ' {
				ind++
			}
			i++
			col++
		}
		rest = line[i:]
	}
	if ind <= 3 && isATXHeading(rest) {
		l.heading(off + i)
	}
	if bytes.HasPrefix(rest, []byte("[^")) {
		l.containers = true // a footnote definition, probably
	}
	if ind <= 3 && len(rest) >= 3 && (rest[0] == '`' || rest[0] == '~') {
		n := runLen(rest, rest[0])
		if n >= 3 && (rest[0] == '~' || bytes.IndexByte(rest[n:], '`') < 0) {
			l.fenceChar, l.fenceLen, l.fenceQuotes, l.fenceCol = rest[0], n, quotes, col
			return
		}
	}
	l.inline(off+i, rest, false)
	return weight
}

// inline escapes the openers beyond the budget in s, which starts at
// src[off]; inCode means s is (probably) code.
func (l *syntaxLimiter) inline(off int, s []byte, inCode bool) {
	if !inCode && l.count[kindCodeSpan] < l.budget && bytes.IndexByte(s, '`') >= 0 {
		l.findCodeSpans(s)
	} else {
		l.runs = l.runs[:0]
	}
	r := 0 // next entry of l.runs
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				i += 2
				continue
			}
		case '[':
			n := 1
			if i+1 < len(s) && s[i+1] == '[' {
				n = 2
			}
			l.opener(kindBracket, off+i, n, inCode)
			i += n
			continue
		case '*', '_', '~':
			n := runLen(s[i:], c)
			kind := kindEmphasis
			if c == '~' {
				kind = kindStrike
			}
			l.openers(kind, off+i, n, n, inCode)
			i += n
			continue
		case '`':
			n := runLen(s[i:], c)
			for r < len(l.runs) && l.runs[r].pos < i {
				r++
			}
			if !inCode && r < len(l.runs) && l.runs[r].pos == i && l.runs[r].closer >= 0 &&
				l.count[kindCodeSpan] < l.budget {
				// A code span: its text is code.
				l.count[kindCodeSpan]++
				end := l.runs[l.runs[r].closer].pos
				l.inline(off+i+n, s[i+n:end], true)
				i = end + n
				continue
			}
			l.opener(kindCodeSpan, off+i, n, inCode)
			i += n
			continue
		case '<':
			l.opener(kindAngle, off+i, 1, inCode)
		case 'w':
			if bytes.HasPrefix(s[i:], []byte("www.")) {
				l.opener(kindLinkify, off+i+3, 1, inCode)
				i += 4
				continue
			}
		case ':':
			if bytes.HasPrefix(s[i:], []byte("://")) {
				l.opener(kindLinkify, off+i, 1, inCode)
			}
		case '@':
			l.opener(kindLinkify, off+i, 1, inCode)
		}
		i++
	}
}

// opener counts one opener of kind, n bytes at src[at:], and escapes each
// of its bytes when it is beyond the budget.
func (l *syntaxLimiter) opener(kind, at, n int, inCode bool) {
	l.openers(kind, at, n, 1, inCode)
}

// openers counts k openers of kind in the n bytes at src[at:] and escapes
// all n bytes when the count goes beyond the budget.
func (l *syntaxLimiter) openers(kind, at, n, k int, inCode bool) {
	if inCode {
		if l.inCode[kind] += k; l.inCode[kind] <= l.codeBudget {
			return
		}
	} else if l.count[kind] += k; l.count[kind] <= l.budget {
		return
	}
	for k := at; k < at+n; k++ {
		l.escape(k)
	}
}

// escape puts a backslash before src[at].
func (l *syntaxLimiter) escape(at int) {
	if l.out == nil {
		l.out = make([]byte, 0, len(l.src)+len(l.src)/4)
	}
	l.out = append(l.out, l.src[l.copied:at]...)
	l.out = append(l.out, '\\')
	l.copied = at
}

// heading counts a heading whose first byte is src[at] and escapes that
// byte when the heading is beyond the budget.
func (l *syntaxLimiter) heading(at int) {
	if l.count[kindHeading]++; l.count[kindHeading] > l.headings {
		l.escape(at)
	}
}

// findCodeSpans lists the backtick runs of s, each with the next run of the
// same length as its closer (code spans across lines count as
// unmatched: escaping their backticks only loses the code style). It
// stops after as many runs as the budget could still open, so a line of
// nothing but backticks does not grow the list; a span closed beyond
// them counts as text, which may show a backslash but keeps the budget.
func (l *syntaxLimiter) findCodeSpans(s []byte) {
	l.runs = l.runs[:0]
	for i := 0; i < len(s) && len(l.runs) < 2*(l.budget-l.count[kindCodeSpan]); {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] != '`' {
			i += 2
			continue
		}
		if s[i] != '`' {
			i++
			continue
		}
		n := runLen(s[i:], '`')
		l.runs = append(l.runs, codeRun{pos: i, n: n, closer: -1})
		i += n
	}
	if l.later == nil {
		l.later = make(map[int]int)
	}
	clear(l.later)
	for k := len(l.runs) - 1; k >= 0; k-- {
		n := l.runs[k].n
		if next, ok := l.later[n]; ok {
			l.runs[k].closer = next
		}
		l.later[n] = k
	}
	// A run that closes a span opens none.
	for k := 0; k < len(l.runs); k++ {
		if c := l.runs[k].closer; c >= 0 {
			for j := k + 1; j <= c; j++ {
				l.runs[j].closer = -1
			}
			k = c
		}
	}
}

// isFence reports whether s closes a fence of n or more c.
func isFence(s []byte, c byte, n int) bool {
	s = bytes.TrimLeft(s, " \t")
	m := runLen(s, c)
	return m >= n && len(bytes.TrimSpace(s[m:])) == 0
}

// listMarker returns the length of the list marker ("- ", "1. ") that
// starts s, or 0.
func listMarker(s []byte) int {
	j := 0
	switch {
	case len(s) > 0 && (s[0] == '-' || s[0] == '+' || s[0] == '*'):
		j = 1
	default:
		for j < len(s) && j < 9 && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == 0 || j >= len(s) || (s[j] != '.' && s[j] != ')') {
			return 0
		}
		j++
	}
	if j < len(s) && s[j] != ' ' && s[j] != '\t' {
		return 0
	}
	return j
}

// isThematicBreak reports a line of three or more "*", "-" or "_" and
// spaces.
func isThematicBreak(s []byte) bool {
	var c byte
	n := 0
	for _, b := range s {
		switch {
		case b == ' ' || b == '\t' || b == '\r':
		case (b == '*' || b == '-' || b == '_') && (c == 0 || c == b):
			c = b
			n++
		default:
			return false
		}
	}
	return n >= 3
}

// isATXHeading reports a line starting with one to six "#" and a space.
func isATXHeading(s []byte) bool {
	n := runLen(s, '#')
	return n >= 1 && n <= 6 && (n == len(s) || s[n] == ' ' || s[n] == '\t' || s[n] == '\r')
}

// isSetextUnderline reports a line of only "=" or only "-" (and spaces
// after them), which makes the paragraph above it a heading.
func isSetextUnderline(s []byte) bool {
	if len(s) == 0 || (s[0] != '=' && s[0] != '-') {
		return false
	}
	n := runLen(s, s[0])
	return len(bytes.TrimSpace(s[n:])) == 0
}

func runLen(s []byte, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

func isASCIIPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}
