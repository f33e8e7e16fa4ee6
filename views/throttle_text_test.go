package views

import (
	"strings"
	"testing"
	"time"

	"hansewiki/auth"
)

// A throttled sign-in says how long to wait in words a person reads
// naturally ("in einer Minute", not "in 1 Minuten"), on pages and in errors.
func TestThrottledTextSaysTheWait(t *testing.T) {
	catalogs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang  string
		after time.Duration
		want  string
	}{
		{"de", 30 * time.Second, "in 30 Sekunden"},
		{"de", 45 * time.Second, "in 45 Sekunden"},
		{"de", time.Minute, "in einer Minute"},
		{"de", 61 * time.Second, "in 2 Minuten"},
		{"de", 15 * time.Minute, "in 15 Minuten"},
		{"en", time.Minute, "in a minute"},
		{"en", 15 * time.Minute, "in 15 minutes"},
	} {
		th := &auth.ThrottledError{RetryAfter: tc.after}
		for name, got := range map[string]string{
			"page":  catalogs[tc.lang].throttledText(th),
			"error": catalogs[tc.lang].errorText(th),
		} {
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s %v (%s): %q, want it to say %q", tc.lang, tc.after, name, got, tc.want)
			}
		}
	}
}
