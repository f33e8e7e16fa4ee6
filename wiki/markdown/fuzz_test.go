package markdown

import (
	"testing"
	"unicode/utf8"
)

// FuzzRenderSanitize renders arbitrary Markdown and checks that the output
// never contains anything executable. Run with
//
//	go test ./wiki/markdown -run '^$' -fuzz FuzzRenderSanitize -fuzztime 1m
func FuzzRenderSanitize(f *testing.F) {
	for _, tt := range hostileInputs {
		f.Add(hostileDocument(tt.attack, tt.inline))
		f.Add(tt.attack)
	}
	f.Add(string(readBenchDocument(f)))
	f.Add("## Über uns\n\n[[a]] [[b/c|d]] `[[e]]`\n\n- [x] f\n\n| g |\n|:-:|\n| h |\n\ni[^1]\n\n[^1]: j\n")
	f.Add("<details>\n<summary>x</summary>\n\n*y*\n\n</details>\n\n</div></div>")
	f.Add("```go\nfunc main() {}\n```\n")

	r := New()
	// Every other target is missing, to render both kinds of wiki links;
	// every fourth has a hostile title.
	exists := func(targets []Link) ([]Target, error) {
		found := make([]Target, len(targets))
		for i := range found {
			found[i].Exists = i%2 == 0
			if i%4 == 0 {
				found[i].Title = `<script>alert(1)</script>"><img src=x onerror=alert(1)>`
			}
		}
		return found, nil
	}
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) {
			t.Skip()
		}
		res, err := r.Render([]byte(src), "luebeck", exists)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		for _, problem := range executableContent(res.HTML) {
			t.Errorf("%s in output of %q:\n%s", problem, src, res.HTML)
		}
	})
}
