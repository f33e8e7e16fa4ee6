package wiki

import "testing"

func TestCityShortName(t *testing.T) {
	for name, want := range map[string]string{
		"Hanse- und Universitätsstadt Rostock":    "Rostock",
		"Hansestadt Lübeck":                       "Lübeck",
		"Landeshauptstadt Schwerin":               "Schwerin",
		"Vier-Tore-Stadt Neubrandenburg":          "Neubrandenburg",
		"Universitäts- und Hansestadt Greifswald": "Greifswald",
		"Frankfurt am Main":                       "Frankfurt am Main",
		"Stadt":                                   "Stadt",
	} {
		if got := (City{Name: name}).ShortName(); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", name, got, want)
		}
	}
}
