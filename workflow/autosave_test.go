package workflow_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hansewiki/wiki"
)

// Autosaved text belongs to one person and one editor: others never find
// it, a new save replaces the old one, and it has a size bound.
func TestAutosaveIsPrivatePerEditor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	me, other := e.users["autorin"], e.users["admin-hro"]
	if _, err := e.wf.SaveAutosave(ctx, me, "edit:rostock/warnow-pegel", []byte(`{"body":["erste Fassung"]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.wf.SaveAutosave(ctx, me, "edit:rostock/warnow-pegel", []byte(`{"body":["zweite Fassung"]}`)); err != nil {
		t.Fatal(err)
	}
	a, err := e.wf.Autosave(ctx, me, "edit:rostock/warnow-pegel")
	if err != nil || !strings.Contains(string(a.Fields), "zweite Fassung") {
		t.Fatalf("own autosave: %v %s", err, a.Fields)
	}
	for _, c := range []struct {
		who    string
		target string
	}{{"admin-hro", "edit:rostock/warnow-pegel"}, {"autorin", "new:rostock"}, {"", "edit:rostock/warnow-pegel"}} {
		if _, err := e.wf.Autosave(ctx, e.users[c.who], c.target); !errors.Is(err, wiki.ErrNotFound) {
			t.Errorf("%q reading %s: %v, want not found", c.who, c.target, err)
		}
	}
	// Discarding someone else's text does nothing to it.
	if err := e.wf.DiscardAutosave(ctx, other, "edit:rostock/warnow-pegel"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.wf.Autosave(ctx, me, "edit:rostock/warnow-pegel"); err != nil {
		t.Errorf("another person's discard removed the autosave: %v", err)
	}
	huge := []byte(`{"body":["` + strings.Repeat("x", 7<<20) + `"]}`)
	if _, err := e.wf.SaveAutosave(ctx, me, "new:rostock", huge); !errors.Is(err, wiki.ErrTooLarge) {
		t.Errorf("a 7 MiB autosave: %v, want too large", err)
	}
	if _, err := e.wf.SaveAutosave(ctx, nil, "new:rostock", []byte(`{}`)); !errors.Is(err, wiki.ErrForbidden) {
		t.Errorf("autosave without an identity: %v", err)
	}
}
