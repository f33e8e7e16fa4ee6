package auth

import (
	"regexp"
	"strings"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// NormalizeUsername is the one spelling of a user name: trimmed and with
// ASCII letters lowercased, so "Anna " and "anna" are the same account in
// the CLI, the login forms, the API and the admin pages. Only ASCII is
// folded: names are ASCII anyway, and Unicode case folding would map look-
// alikes such as the Kelvin sign onto real names.
func NormalizeUsername(name string) string {
	name = strings.TrimSpace(name)
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// ValidUsername reports whether name (normalized) may name an account.
func ValidUsername(name string) bool {
	return usernamePattern.MatchString(name) && name != "hansewiki"
}
