package textdiff

// maxCost bounds the middle-snake search of one region to this many steps
// in each direction, so one region costs O((N+M)·maxCost) at worst. A region
// whose edit distance is larger (about 2·maxCost tokens) is reported as
// deleted and inserted as a whole.
const maxCost = 2048

// span is a run of n tokens with the same operation: Equal consumes n tokens
// of both sides, Delete n of the old side, Insert n of the new side.
type span struct {
	op Op
	n  int
}

// myers computes a shortest edit script between two token-id slices with
// the linear-space divide-and-conquer variant of Myers' algorithm.
type myers struct {
	spans []span
	cap   int
}

func diffIDs(a, b []int32, limit int) []span {
	m := &myers{cap: limit}
	m.diff(a, b)
	return m.spans
}

func (m *myers) add(op Op, n int) {
	if n == 0 {
		return
	}
	if k := len(m.spans) - 1; k >= 0 && m.spans[k].op == op {
		m.spans[k].n += n
		return
	}
	m.spans = append(m.spans, span{op, n})
}

func (m *myers) diff(a, b []int32) {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	m.add(Equal, p)
	a, b = a[p:], b[p:]
	s := 0
	for s < len(a) && s < len(b) && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	a, b = a[:len(a)-s], b[:len(b)-s]

	switch {
	case len(a) == 0:
		m.add(Insert, len(b))
	case len(b) == 0:
		m.add(Delete, len(a))
	case len(a) == 1 || len(b) == 1:
		m.single(a, b)
	default:
		x, y, ok := m.bisect(a, b)
		if ok && (x > 0 || y > 0) && (x < len(a) || y < len(b)) {
			m.diff(a[:x], b[:y])
			m.diff(a[x:], b[y:])
		} else {
			m.add(Delete, len(a))
			m.add(Insert, len(b))
		}
	}
	m.add(Equal, s)
}

// single handles a side of one token (after trimming it differs from both
// ends of the other side): it is either found once in the other side or not.
func (m *myers) single(a, b []int32) {
	long, short, grow := b, a[0], Insert
	if len(b) == 1 {
		long, short, grow = a, b[0], Delete
	}
	for i, t := range long {
		if t == short {
			m.add(grow, i)
			m.add(Equal, 1)
			m.add(grow, len(long)-i-1)
			return
		}
	}
	m.add(Delete, len(a))
	m.add(Insert, len(b))
}

// bisect finds the middle snake of a and b and returns where to split them.
// It reports false when the sides have nothing in common or when the search
// exceeds the cost cap.
func (m *myers) bisect(a, b []int32) (int, int, bool) {
	n, mm := len(a), len(b)
	maxD := min((n+mm+1)/2, m.cap)
	off := maxD
	vlen := 2*maxD + 2
	v := make([]int, 2*vlen)
	v1, v2 := v[:vlen], v[vlen:]
	for i := range v {
		v[i] = -1
	}
	v1[off+1], v2[off+1] = 0, 0
	delta := n - mm
	front := delta%2 != 0
	// k?start and k?end trim diagonals that ran off the grid.
	k1start, k1end, k2start, k2end := 0, 0, 0, 0
	for d := 0; d < maxD; d++ {
		for k1 := -d + k1start; k1 <= d-k1end; k1 += 2 {
			k1off := off + k1
			var x1 int
			if k1 == -d || (k1 != d && v1[k1off-1] < v1[k1off+1]) {
				x1 = v1[k1off+1]
			} else {
				x1 = v1[k1off-1] + 1
			}
			y1 := x1 - k1
			for x1 < n && y1 < mm && a[x1] == b[y1] {
				x1++
				y1++
			}
			v1[k1off] = x1
			switch {
			case x1 > n:
				k1end += 2
			case y1 > mm:
				k1start += 2
			case front:
				k2off := off + delta - k1
				if k2off >= 0 && k2off < vlen && v2[k2off] != -1 {
					if x1 >= n-v2[k2off] {
						return x1, y1, true
					}
				}
			}
		}
		for k2 := -d + k2start; k2 <= d-k2end; k2 += 2 {
			k2off := off + k2
			var x2 int
			if k2 == -d || (k2 != d && v2[k2off-1] < v2[k2off+1]) {
				x2 = v2[k2off+1]
			} else {
				x2 = v2[k2off-1] + 1
			}
			y2 := x2 - k2
			for x2 < n && y2 < mm && a[n-x2-1] == b[mm-y2-1] {
				x2++
				y2++
			}
			v2[k2off] = x2
			switch {
			case x2 > n:
				k2end += 2
			case y2 > mm:
				k2start += 2
			case !front:
				k1off := off + delta - k2
				if k1off >= 0 && k1off < vlen && v1[k1off] != -1 {
					x1 := v1[k1off]
					y1 := off + x1 - k1off
					if x1 >= n-x2 {
						return x1, y1, true
					}
				}
			}
		}
	}
	return 0, 0, false
}
