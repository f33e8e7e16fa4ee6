package views

import (
	"reflect"
	"testing"
)

// The autosaved form is the posted form: every editor field survives the
// round trip, so a field added to the editor without being kept fails here
// instead of being dropped from someone's draft.
func TestAutosaveKeepsEveryEditorField(t *testing.T) {
	var f editorForm
	v := reflect.ValueOf(&f).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString("wert " + v.Type().Field(i).Name)
		case reflect.Slice:
			fv.Set(reflect.ValueOf([]string{"eins", "zwei"}))
		case reflect.Int64:
			fv.SetInt(42)
		default:
			t.Fatalf("editorForm.%s: a field of kind %s; teach values and editorFromValues about it", v.Type().Field(i).Name, fv.Kind())
		}
	}
	if got := editorFromValues(f.values()); !reflect.DeepEqual(got, f) {
		t.Errorf("round trip through values:\n got %+v\nwant %+v", got, f)
	}
}
