package textdiff_test

import (
	"fmt"

	"hansewiki/wiki/textdiff"
)

func ExampleWords() {
	chunks := textdiff.Words("Die Straßenbäume werden gegossen.", "Die jungen Straßenbäumen werden gegossen.")
	for _, c := range chunks {
		fmt.Printf("%v%q\n", c.Op, c.Text)
	}
	added, removed := textdiff.Stats(chunks)
	fmt.Printf("+%d −%d\n", added, removed)
	// Output:
	// ="Die "
	// -"Straßenbäume"
	// +"jungen Straßenbäumen"
	// =" werden gegossen."
	// +2 −1
}

func ExampleHTML() {
	fmt.Print(textdiff.HTML(textdiff.Prose("# Titel\n\nAlter <Text>.\n", "# Titel\n\nNeuer <Text>.\n")))
	// Output:
	// <div class="diff">
	// <p class="diff-line diff-same"># Titel</p>
	// <p class="diff-line diff-same"><br></p>
	// <p class="diff-line diff-changed"><del>Alter</del><ins>Neuer</ins> &lt;Text&gt;.</p>
	// </div>
}
