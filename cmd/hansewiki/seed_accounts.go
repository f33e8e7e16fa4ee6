package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"hansewiki/auth"
)

// demoAccount is an account seed --demo makes, one per role in two cities
// and one network admin, so a demo can be tried in every role.
type demoAccount struct {
	username, name string
	role, city     string
}

var demoAccounts = []demoAccount{
	{"demo-autorin-luebeck", "Anna Autorin (Lübeck, Demo)", auth.RoleAuthor, "luebeck"},
	{"demo-pruefer-luebeck", "Paul Prüfer (Lübeck, Demo)", auth.RoleReviewer, "luebeck"},
	{"demo-admin-luebeck", "Alma Admin (Lübeck, Demo)", auth.RoleAdmin, "luebeck"},
	{"demo-autor-rostock", "Rasmus Autor (Rostock, Demo)", auth.RoleAuthor, "rostock"},
	{"demo-pruefer-rostock", "Rieke Prüferin (Rostock, Demo)", auth.RoleReviewer, "rostock"},
	{"demo-admin-rostock", "Robert Admin (Rostock, Demo)", auth.RoleAdmin, "rostock"},
	{"demo-netzwerk", "Nora Netzwerk (Koordination, Demo)", auth.RoleAdmin, auth.AllCities},
}

// demoPassword is a fresh random password that reads aloud well: four
// groups of lowercase letters and digits.
func demoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 19)
	rand.Read(b)
	for i := range b {
		if i%5 == 4 {
			b[i] = '-'
			continue
		}
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// seedDemoAccounts creates the demo accounts that do not exist yet, with
// one new password for all of them, and tells the operator how to sign in.
// Accounts that exist keep their password.
func seedDemoAccounts(ctx context.Context, m *Main, out io.Writer) error {
	pw := demoPassword()
	var made []demoAccount
	for _, a := range demoAccounts {
		_, err := m.Auth.CreateUser(ctx, auth.NewUser{Username: a.username, DisplayName: a.name, Password: pw}, "seed:"+cliActor())
		if errors.Is(err, auth.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if err := m.Auth.Grant(ctx, a.username, a.role, a.city, "seed:"+cliActor()); err != nil {
			return err
		}
		made = append(made, a)
	}
	if len(made) == 0 {
		fmt.Fprintln(out, "Demo-Konten bestehen schon; ihr Passwort bleibt. Neues Passwort: hansewiki user passwd demo-netzwerk")
		fmt.Fprintln(out, "Demo accounts exist already and keep their password. New one: hansewiki user passwd demo-netzwerk")
		return nil
	}
	fmt.Fprintln(out, "")
	fmt.Fprintln(out, "Demo-Konten / demo accounts (Anmelden unter /login / sign in at /login):")
	for _, a := range made {
		city := a.city
		if city == auth.AllCities {
			city = "alle Städte / every city"
		}
		fmt.Fprintf(out, "  %-22s %s in %s\n", a.username, a.role, city)
	}
	fmt.Fprintf(out, "Passwort für alle / password for all: %s\n", pw)
	fmt.Fprintln(out, "Es wird nur jetzt angezeigt. / It is shown only now.")
	fmt.Fprintln(out, "")
	return nil
}
