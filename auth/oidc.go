package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// OIDCConfig configures sign-in with a city's identity provider
// (OpenID Connect, authorization code flow with PKCE).
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is the wiki's /auth/oidc/callback, absolute.
	RedirectURL string
	// RoleMap maps groups to roles (OIDC_ROLE_MAP).
	RoleMap []RoleMapping
	// GroupsClaim names the claim with the groups (default "groups").
	GroupsClaim string
}

// RoleMapping grants Role in City to members of Group.
type RoleMapping struct {
	Group string
	Grant
}

// ParseRoleMap reads OIDC_ROLE_MAP: group=role:city pairs separated by
// commas, e.g. "hw-luebeck-autor=author:luebeck,hw-netz=admin:*".
func ParseRoleMap(s string) ([]RoleMapping, error) {
	var out []RoleMapping
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		group, grant, ok := strings.Cut(pair, "=")
		role, city, ok2 := strings.Cut(grant, ":")
		group, role, city = strings.TrimSpace(group), strings.TrimSpace(role), strings.TrimSpace(city)
		if !ok || !ok2 || group == "" || city == "" || !slices.Contains(Roles, role) {
			return nil, fmt.Errorf("OIDC_ROLE_MAP: %q is not group=role:city with role author, reviewer or admin", pair)
		}
		out = append(out, RoleMapping{Group: group, Grant: Grant{Role: role, City: city}})
	}
	return out, nil
}

// OIDC signs people in with an OpenID provider. The provider's metadata is
// fetched at the first sign-in (and again after a failure), so the wiki
// starts while the provider is down.
type OIDC struct {
	cfg OIDCConfig
	svc *Service

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewOIDC returns the OpenID Connect sign-in of svc.
func (s *Service) NewOIDC(cfg OIDCConfig) *OIDC {
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	return &OIDC{cfg: cfg, svc: s}
}

func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID provider %s: %w", o.cfg.Issuer, err)
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// OIDCStart is what the browser's session keeps between the redirect to
// the provider and the callback; every field is single-use.
type OIDCStart struct {
	State, Nonce, Verifier string
	// URL is where the browser goes to sign in.
	URL string
}

// Start begins a sign-in: fresh state, nonce and PKCE verifier.
func (o *OIDC) Start(ctx context.Context) (OIDCStart, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return OIDCStart{}, err
	}
	st := OIDCStart{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier()}
	st.URL = o.oauth(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return st, nil
}

// ErrOIDC refuses a callback: a wrong state, a code the provider does not
// accept (used, expired, another client's), an ID token with the wrong
// issuer, audience, nonce or signature, or an expired one.
var ErrOIDC = errors.New("the sign-in with the identity provider failed")

type oidcError struct {
	reason string
	err    error
}

func (e *oidcError) Error() string {
	if e.err != nil {
		return "oidc: " + e.reason + ": " + e.err.Error()
	}
	return "oidc: " + e.reason
}
func (e *oidcError) Is(target error) bool { return target == ErrOIDC }
func (e *oidcError) Unwrap() error        { return e.err }

// Claims are what the wiki takes from the provider about a person.
type Claims struct {
	Subject           string
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	Name              string `json:"name"`
	Groups            []string
}

// Finish completes a sign-in: the callback's state must be the one Start
// made, the code is exchanged with the PKCE verifier, and the ID token is
// verified (signature, issuer, audience, expiry, nonce). The account is
// created at the first sign-in; roles follow the groups at every sign-in.
func (o *OIDC) Finish(ctx context.Context, st OIDCStart, state, code, addr string) (*Identity, error) {
	if st.State == "" || state != st.State {
		return nil, &oidcError{reason: "state does not match"}
	}
	p, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := o.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, &oidcError{reason: "code exchange", err: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &oidcError{reason: "no ID token"}
	}
	claims, err := o.VerifyIDToken(ctx, raw, st.Nonce)
	if err != nil {
		return nil, err
	}
	// Profile and groups may come from the userinfo endpoint instead.
	if info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil && info.Subject == claims.Subject {
		var more map[string]any
		if err := info.Claims(&more); err == nil {
			claims.merge(more, o.cfg.GroupsClaim)
		}
	}
	return o.svc.oidcSignIn(ctx, o.cfg.Issuer, claims, o.cfg.RoleMap, addr)
}

// VerifyIDToken checks a raw ID token for this client and nonce.
func (o *OIDC) VerifyIDToken(ctx context.Context, raw, nonce string) (Claims, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return Claims{}, err
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return Claims{}, &oidcError{reason: "ID token", err: err}
	}
	if nonce == "" || idt.Nonce != nonce {
		return Claims{}, &oidcError{reason: "nonce does not match"}
	}
	c := Claims{Subject: idt.Subject}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return Claims{}, &oidcError{reason: "claims", err: err}
	}
	c.merge(all, o.cfg.GroupsClaim)
	return c, nil
}

// merge fills what is missing from m.
func (c *Claims) merge(m map[string]any, groupsClaim string) {
	str := func(k string) string { s, _ := m[k].(string); return s }
	if c.PreferredUsername == "" {
		c.PreferredUsername = str("preferred_username")
	}
	if c.Email == "" {
		c.Email = str("email")
	}
	if c.Name == "" {
		c.Name = str("name")
		if c.Name == "" {
			c.Name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
		}
	}
	if c.Groups == nil {
		switch g := m[groupsClaim].(type) {
		case []any:
			c.Groups = []string{}
			for _, x := range g {
				if s, ok := x.(string); ok {
					c.Groups = append(c.Groups, s)
				}
			}
		case string:
			c.Groups = []string{g}
		}
	}
}

// oidcSignIn finds or creates the account of (issuer, subject) and syncs
// its roles with the groups, in one transaction with its audit events.
func (s *Service) oidcSignIn(ctx context.Context, issuer string, c Claims, roleMap []RoleMapping, addr string) (*Identity, error) {
	if c.Subject == "" {
		return nil, &oidcError{reason: "no subject"}
	}
	want := map[Grant]bool{}
	for _, m := range roleMap {
		if slices.Contains(c.Groups, m.Group) {
			want[m.Grant] = true
		}
	}
	var userID int64
	var username string
	changed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT id, username, disabled FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2 FOR UPDATE`, issuer, c.Subject).
			Scan(&userID, &username, &disabled)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if username, userID, err = s.createOIDCUser(ctx, tx, issuer, c, addr); err != nil {
				return err
			}
		case err != nil:
			return err
		case disabled:
			return ErrBadCredentials
		default:
			// Name and address follow the provider.
			if _, err := tx.Exec(ctx, `UPDATE users SET display_name = CASE WHEN $2 = '' THEN display_name ELSE $2 END,
				email = CASE WHEN $3 = '' THEN email ELSE $3 END WHERE id = $1`, userID, trimName(c.Name), c.Email); err != nil {
				return err
			}
		}
		changed, err = syncGroups(ctx, tx, username, want)
		if err != nil {
			return err
		}
		return audit(ctx, tx, username, "login", "user:"+username, map[string]any{"method": "oidc"}, addr)
	})
	if err != nil {
		return nil, err
	}
	if changed {
		if err := s.rolesChanged(username); err != nil {
			return nil, err
		}
	}
	return s.IdentityByID(ctx, userID)
}

func trimName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > 200 {
		s = string([]rune(s)[:200])
	}
	return s
}

// createOIDCUser makes the account of a first sign-in: user name from
// preferred_username, else the e-mail's local part, made unique with a
// number (an existing local account is never taken over). It has no
// password until one is set.
func (s *Service) createOIDCUser(ctx context.Context, tx pgx.Tx, issuer string, c Claims, addr string) (string, int64, error) {
	base := c.PreferredUsername
	if base == "" {
		base, _, _ = strings.Cut(c.Email, "@")
	}
	base = usernameFrom(base)
	email := c.Email
	if _, err := validEmail(email); err != nil {
		email = ""
	}
	for i := 1; i < 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO users (username, display_name, email, password_hash, oidc_issuer, oidc_subject)
			VALUES ($1, $2, $3, '', $4, $5) ON CONFLICT (username) DO NOTHING RETURNING id`, name, trimName(c.Name), email, issuer, c.Subject).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", 0, err
		}
		return name, id, audit(ctx, tx, "oidc", "user.create", "user:"+name, map[string]any{"issuer": issuer}, addr)
	}
	return "", 0, &oidcError{reason: "no free user name for " + base}
}

// usernameFrom turns a provider's name into a valid user name.
func usernameFrom(s string) string {
	s = NormalizeUsername(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == '@' || r == ' ':
			b.WriteRune('.')
		}
	}
	out := strings.Trim(b.String(), "._-")
	if len(out) > 50 {
		out = out[:50]
	}
	if len(out) < 2 {
		out = "person"
	}
	return out
}

// syncGroups grants the roles the groups give and revokes those group sync
// granted earlier whose group is gone. Roles granted by hand are neither
// recorded nor revoked. Every grant and revocation is an audit event.
func syncGroups(ctx context.Context, tx pgx.Tx, username string, want map[Grant]bool) (bool, error) {
	rows, _ := tx.Query(ctx, `SELECT city, role FROM oidc_grants WHERE username = $1`, username)
	synced, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Grant])
	if err != nil {
		return false, err
	}
	changed := false
	for _, g := range synced {
		if want[g] {
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_grants WHERE username = $1 AND role = $2 AND city = $3`, username, g.Role, g.City); err != nil {
			return false, err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM casbin_rules WHERE ptype = 'g' AND v0 = $1 AND v1 = $2 AND v2 = $3`, username, g.Role, g.City)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() > 0 {
			changed = true
			if err := audit(ctx, tx, "oidc", "role.revoke", "user:"+username, map[string]any{"role": g.Role, "city": g.City, "source": "oidc"}, ""); err != nil {
				return false, err
			}
		}
	}
	for g := range want {
		if slices.Contains(synced, g) {
			continue
		}
		if g.City != AllCities {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cities WHERE slug = $1)`, g.City).Scan(&ok); err != nil {
				return false, err
			}
			if !ok {
				continue // a mapping to a city that does not exist (yet)
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', $1, $2, $3) ON CONFLICT DO NOTHING`, username, g.Role, g.City)
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() == 0 {
			continue // held by hand already: it stays the hand's
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oidc_grants (username, role, city) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, username, g.Role, g.City); err != nil {
			return false, err
		}
		changed = true
		if err := audit(ctx, tx, "oidc", "role.grant", "user:"+username, map[string]any{"role": g.Role, "city": g.City, "source": "oidc"}, ""); err != nil {
			return false, err
		}
	}
	if changed {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, PolicyChannel); err != nil {
			return false, err
		}
	}
	return changed, nil
}
