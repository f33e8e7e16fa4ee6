package wiki

import "testing"

// readerSamples covers every kind of reader over three cities.
var readerSamples = []Reader{
	{}, {Cities: []string{"rostock"}}, {Member: true},
	{Member: true, Cities: []string{"rostock"}}, {Member: true, Cities: []string{"wismar"}}, {Member: true, Cities: []string{"luebeck"}},
	{Member: true, Cities: []string{"rostock", "wismar"}}, {Member: true, Cities: []string{AllCities}},
	{Member: true, Cities: []string{"luebeck", AllCities}},
}

var visibilities = []Visibility{Public, Network, CityVis}

var sampleCities = []string{"rostock", "wismar", "luebeck"}

// Intersect reads exactly what both readers read.
func TestIntersectReadsWhatBothRead(t *testing.T) {
	for _, a := range readerSamples {
		for _, b := range readerSamples {
			both := a.Intersect(b)
			for _, city := range sampleCities {
				for _, v := range visibilities {
					if got, want := both.CanRead(city, v), a.CanRead(city, v) && b.CanRead(city, v); got != want {
						t.Errorf("%+v ∩ %+v reading %s %s: %v, want %v", a, b, v, city, got, want)
					}
				}
			}
		}
	}
}

// Audience(city, vis) reads a target exactly when every reader of an
// article of city with visibility vis does.
func TestAudienceReadsWhatEveryReaderReads(t *testing.T) {
	for _, city := range sampleCities {
		for _, vis := range visibilities {
			audience := Audience(city, vis)
			for _, tc := range sampleCities {
				for _, tv := range visibilities {
					all := true
					for _, r := range readerSamples {
						if r.CanRead(city, vis) && !r.CanRead(tc, tv) {
							all = false
						}
					}
					if got := audience.CanRead(tc, tv); got != all {
						t.Errorf("audience of a %s article of %s reading a %s one of %s: %v, every reader: %v", vis, city, tv, tc, got, all)
					}
				}
			}
		}
	}
}
