package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress shows how far a long command is: a redrawn bar on a terminal,
// a line every tenth of the work otherwise (logs, CI).
type progress struct {
	w      io.Writer
	tty    bool
	label  string
	total  int
	start  time.Time
	drawn  time.Time
	decile int
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Set reports that done items are finished, the last being item.
func (p *progress) Set(done int, item string) {
	if p.total == 0 {
		return
	}
	if p.tty {
		if time.Since(p.drawn) < 50*time.Millisecond && done < p.total {
			return
		}
		p.drawn = time.Now()
		const width = 30
		filled := done * width / p.total
		if len(item) > 40 {
			item = "…" + item[len(item)-39:]
		}
		fmt.Fprintf(p.w, "\r\033[K%s [%s%s] %d/%d %s", p.label,
			strings.Repeat("█", filled), strings.Repeat("░", width-filled), done, p.total, item)
		return
	}
	if d := done * 10 / p.total; d > p.decile {
		p.decile = d
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.label, done, p.total, done*100/p.total)
	}
}

// Done ends the bar's line on a terminal.
func (p *progress) Done() {
	if p.tty && p.total > 0 {
		fmt.Fprintln(p.w)
	}
}

// Elapsed is the time since the work started.
func (p *progress) Elapsed() time.Duration { return time.Since(p.start).Round(time.Millisecond) }
