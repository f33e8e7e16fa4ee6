package slug

import "testing"

func TestMake(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Über uns", "ueber-uns"},
		{"Straßenbäume in Lübeck", "strassenbaeume-in-luebeck"},
		{"Klimaanpassung: Gründächer & Starkregen!", "klimaanpassung-gruendaecher-starkregen"},
		{"  E-Akte  2.0 ", "e-akte-2-0"},
		{"Café Öffentlichkeit", "cafe-oeffentlichkeit"},
		{"ÄÖÜẞ", "aeoeuess"},
		{"---", ""},
		{"日本", ""},
	}
	for _, tt := range tests {
		if got := Make(tt.in, 0); got != tt.want {
			t.Errorf("Make(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Make("Stadtdaten und Open Data", 10); got != "stadtdaten" {
		t.Errorf("truncated slug = %q", got)
	}
	if got := Make("ab cd", 3); got != "ab" {
		t.Errorf("truncation must not end in a hyphen: %q", got)
	}
}
