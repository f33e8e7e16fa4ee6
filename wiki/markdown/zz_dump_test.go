package markdown

import "testing"

func TestDumpHostile(t *testing.T) {
	r := New()
	for _, tt := range hostileInputs {
		res, _ := r.Render([]byte(hostileDocument(tt.attack, tt.inline)), "luebeck", nil)
		t.Logf("%s:\n%s", tt.name, res.HTML)
	}
}
