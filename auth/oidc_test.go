package auth

import (
	"reflect"
	"testing"
)

func TestParseRoleMap(t *testing.T) {
	got, err := ParseRoleMap(" hw-luebeck-autor=author:luebeck, hw-netz=admin:* ,")
	want := []RoleMapping{{Group: "hw-luebeck-autor", Grant: Grant{Role: "author", City: "luebeck"}}, {Group: "hw-netz", Grant: Grant{Role: "admin", City: "*"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseRoleMap = %v, %v", got, err)
	}
	for _, bad := range []string{"gruppe", "gruppe=author", "gruppe=chef:luebeck", "=author:luebeck", "g=author:"} {
		if _, err := ParseRoleMap(bad); err == nil {
			t.Errorf("ParseRoleMap(%q) accepted", bad)
		}
	}
}

func TestUsernameFromClaims(t *testing.T) {
	for in, want := range map[string]string{"Anna.Schmidt": "anna.schmidt", "anna schmidt@luebeck.de": "anna.schmidt.luebeck.de",
		"ä": "person", "--x--": "x" + "", "Jörg": "jrg"} {
		got := usernameFrom(in)
		if in == "--x--" {
			want = "person" // one character is too short
		}
		if got != want || !ValidUsername(got) {
			t.Errorf("usernameFrom(%q) = %q, want %q (valid)", in, got, want)
		}
	}
}
