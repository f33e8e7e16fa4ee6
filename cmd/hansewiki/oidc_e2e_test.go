package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
)

// The tests sign in against a real OpenID provider: the example OP of
// github.com/zitadel/oidc (an OpenID-certified library), run in-process
// on a loopback port, with its own users, clients and signing key. Only
// its storage is extended: a groups claim and, for one test, ID tokens
// that are expired when issued.

type opUsers map[string]*storage.User

func (u opUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u opUsers) ExampleClientID() string { return "hansewiki" }

// opStorage adds groups to the userinfo and can make ID tokens expire
// before they are issued.
type opStorage struct {
	*storage.Storage
	mu      sync.Mutex
	groups  map[string][]string // user ID → groups
	expired bool
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.groups[info.Subject]; ok {
		info.AppendClaims("groups", g)
	}
	return nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || !s.expired {
		return c, err
	}
	return expiredTokens{c}, nil
}

type expiredTokens struct{ op.Client }

func (expiredTokens) IDTokenLifetime() time.Duration { return -time.Minute }

type testOP struct {
	issuer  string
	store   *opStorage
	clients map[string]*storage.Client
}

func startOP(t *testing.T) *testOP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &testOP{issuer: "http://" + l.Addr().String(), clients: map[string]*storage.Client{}}
	users := opUsers{
		"u-anna": {ID: "u-anna", Username: "anna.schmidt", Password: "idp-passwort-anna", FirstName: "Anna", LastName: "Schmidt",
			Email: "anna.schmidt@luebeck.test", EmailVerified: true, PreferredLanguage: language.German},
		"u-bert": {ID: "u-bert", Username: "bert@rostock.test", Password: "idp-passwort-bert", FirstName: "Bert", LastName: "Berg",
			Email: "bert@rostock.test", EmailVerified: true, PreferredLanguage: language.German},
	}
	o.store = &opStorage{Storage: storage.NewStorageWithClients(users, o.clients), groups: map[string][]string{}}
	srv := &http.Server{Handler: exampleop.SetupServer(o.issuer, o.store, nil, false)}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return o
}

// logBuffer keeps what the server logs, for the reasons of refusals.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startSSOServer runs the wiki with sign-in at op, as client "hansewiki".
func startSSOServer(t *testing.T, dbURL string, o *testOP, logs ...*logBuffer) *Main {
	t.Helper()
	log := discardLogger()
	if len(logs) > 0 {
		log = slog.New(slog.NewTextHandler(logs[0], nil))
	}
	m := &Main{Config: Config{DatabaseURL: dbURL, Addr: "127.0.0.1:0", OIDCIssuer: o.issuer, OIDCClientID: "hansewiki",
		OIDCClientSecret: "hansewiki-geheim", OIDCRoleMap: "hw-luebeck-autor=author:luebeck, hw-netz=admin:*, hw-rostock-pruef=reviewer:rostock"},
		Log: log}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.clients["hansewiki"] = storage.WebClient("hansewiki", "hansewiki-geheim", m.URL()+"/auth/oidc/callback")
	return serve(t, m)
}

// toCallback signs in at the provider the way a browser does and returns
// the wiki callback the provider sends the browser to (not yet opened).
func (c *client) toCallback(user, pw string) string {
	c.t.Helper()
	status, _, hdr := c.do("GET", "/auth/oidc/login?next=/account", nil)
	if status != http.StatusSeeOther {
		c.t.Fatalf("/auth/oidc/login: %d", status)
	}
	return providerLogin(c.t, c.http, hdr.Get("Location"), user, pw, c.base+"/auth/oidc/callback")
}

// providerLogin follows the provider's redirects and login form from an
// authorization URL until it redirects to redirectURI.
func providerLogin(t *testing.T, hc *http.Client, next, user, pw, redirectURI string) string {
	t.Helper()
	for range 10 {
		if strings.HasPrefix(next, redirectURI) {
			return next
		}
		resp, err := hc.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		if resp.StatusCode == http.StatusOK && strings.Contains(resp.Request.URL.Path, "/login/username") {
			id := resp.Request.URL.Query().Get("authRequestID")
			resp, err = hc.PostForm(resp.Request.URL.String(), url.Values{"id": {id}, "username": {user}, "password": {pw}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ = resp.Location()
		}
		if loc == nil {
			t.Fatalf("the provider stopped at %s with %d", next, resp.StatusCode)
		}
		next = loc.String()
	}
	t.Fatal("too many redirects at the provider")
	return ""
}

func (c *client) callback(cb string) (int, string, http.Header) {
	c.t.Helper()
	u, _ := url.Parse(cb)
	return c.do("GET", u.RequestURI(), nil)
}

func rolesOf(t *testing.T, dbURL, user string) string {
	t.Helper()
	out, err := cli(t, dbURL, "role", "list", user)
	if err != nil {
		t.Fatalf("role list %s: %v\n%s", user, err, out)
	}
	return out
}

func TestSignInWithOpenIDProvider(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "anna.schmidt") // a local account with the same name is never taken over
	o := startOP(t)
	o.store.mu.Lock()
	o.store.groups["u-anna"] = []string{"hw-luebeck-autor", "hw-netz", "andere-gruppe"}
	o.store.mu.Unlock()
	m := startSSOServer(t, dbURL, o)

	c := newClient(t, m.URL())
	if _, page := c.get("/login"); !strings.Contains(page, `href="/auth/oidc/login`) {
		t.Error("the login page offers no sign-in with the identity provider")
	}
	cb := c.toCallback("anna.schmidt", "idp-passwort-anna")
	if !strings.Contains(cb, "code=") || !strings.Contains(cb, "state=") {
		t.Fatalf("callback without code and state: %s", cb)
	}
	status, _, hdr := c.callback(cb)
	if status != http.StatusSeeOther || hdr.Get("Location") != "/account" {
		t.Fatalf("callback: %d %q", status, hdr.Get("Location"))
	}
	if status, page := c.get("/account"); status != 200 || !strings.Contains(page, "Anna Schmidt") {
		t.Fatalf("signed in through the provider: %d", status)
	}
	// The account was made at the first sign-in, beside the local one.
	out, _ := cli(t, dbURL, "user", "list")
	if !regexp.MustCompile(`anna\.schmidt-2\s+Anna Schmidt\s+anna\.schmidt@luebeck\.test`).MatchString(out) {
		t.Fatalf("no account from the provider's claims:\n%s", out)
	}
	roles := rolesOf(t, dbURL, "anna.schmidt-2")
	if !regexp.MustCompile(`author\s+luebeck`).MatchString(roles) || !regexp.MustCompile(`admin\s+\*`).MatchString(roles) {
		t.Fatalf("roles from the groups:\n%s", roles)
	}
	// A role granted by hand, also one a group could give, stays.
	cli(t, dbURL, "role", "grant", "anna.schmidt-2", "reviewer", "rostock")

	// Second sign-in: the network group is gone.
	o.store.mu.Lock()
	o.store.groups["u-anna"] = []string{"hw-luebeck-autor"}
	o.store.mu.Unlock()
	c2 := newClient(t, m.URL())
	if status, _, _ := c2.callback(c2.toCallback("anna.schmidt", "idp-passwort-anna")); status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", status)
	}
	roles = rolesOf(t, dbURL, "anna.schmidt-2")
	if strings.Contains(roles, "admin") || !regexp.MustCompile(`author\s+luebeck`).MatchString(roles) || !regexp.MustCompile(`reviewer\s+rostock`).MatchString(roles) {
		t.Errorf("after the group sync:\n%s", roles)
	}
	// Every grant and revocation is an audit event.
	conn, _ := pgxConnect(t, dbURL)
	var grants, revokes int
	conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'role.grant'), count(*) FILTER (WHERE action = 'role.revoke')
		FROM audit_events WHERE actor = 'oidc' AND object = 'user:anna.schmidt-2'`).Scan(&grants, &revokes)
	if grants != 2 || revokes != 1 {
		t.Errorf("audit: %d grants, %d revocations by group sync; want 2 and 1", grants, revokes)
	}
	// The first browser's session saw the role change too.
	if status, _ := c.get("/admin"); status != http.StatusForbidden {
		t.Errorf("the revoked network admin role still opens /admin: %d", status)
	}
	// No secret reaches the audit log.
	var leaked int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE detail::text LIKE '%code%' OR detail::text LIKE '%token%'`).Scan(&leaked)
	if leaked != 0 {
		t.Errorf("%d audit events mention a code or token", leaked)
	}
}

func TestOpenIDSignInRefusals(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	o := startOP(t)
	logs := &logBuffer{}
	m := startSSOServer(t, dbURL, o, logs)
	refused := func(name string, c *client, cb, reason string) {
		t.Helper()
		before := len(logs.String())
		status, page, _ := c.callback(cb)
		if status != http.StatusUnauthorized || !strings.Contains(page, "nicht geklappt") {
			t.Errorf("%s: %d, want 401 and the login page", name, status)
		}
		if got := logs.String()[before:]; !strings.Contains(got, reason) {
			t.Errorf("%s: refused for another reason than %q:\n%s", name, reason, got)
		}
		if strings.Contains(logs.String(), regexp.MustCompile(`code=([^&]+)`).FindStringSubmatch(cb)[1]) {
			t.Errorf("%s: the code was logged", name)
		}
		if status, _ := c.get("/account"); status == 200 {
			t.Errorf("%s: signed in", name)
		}
	}

	// A wrong state; then the right one no longer works (single use).
	a := newClient(t, m.URL())
	cb := a.toCallback("bert@rostock.test", "idp-passwort-bert")
	refused("wrong state", a, regexp.MustCompile(`state=[^&]+`).ReplaceAllString(cb, "state=gefaelscht"), "state does not match")
	refused("state used before", a, cb, "state does not match")
	// A callback in another browser (no state in its session).
	b := newClient(t, m.URL())
	cb = b.toCallback("bert@rostock.test", "idp-passwort-bert")
	refused("callback in a browser that did not start", newClient(t, m.URL()), cb, "state does not match")

	// A replayed code: b signs in, then c presents b's code with its own state.
	b2 := newClient(t, m.URL())
	cb = b2.toCallback("bert@rostock.test", "idp-passwort-bert")
	if status, _, _ := b2.callback(cb); status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", status)
	}
	c := newClient(t, m.URL())
	own := c.toCallback("bert@rostock.test", "idp-passwort-bert")
	code := regexp.MustCompile(`code=[^&]+`).FindString(cb)
	refused("replayed code", c, regexp.MustCompile(`code=[^&]+`).ReplaceAllString(own, code), "code exchange")

	// An expired ID token from the provider.
	o.store.mu.Lock()
	o.store.expired = true
	o.store.mu.Unlock()
	d := newClient(t, m.URL())
	refused("expired ID token", d, d.toCallback("bert@rostock.test", "idp-passwort-bert"), "expired")
	o.store.mu.Lock()
	o.store.expired = false
	o.store.mu.Unlock()

	// ID tokens issued for another client (audience) or by another
	// provider (issuer), with the right nonce, are refused by the verifier.
	o.clients["anderes-programm"] = storage.WebClient("anderes-programm", "anders-geheim", "http://127.0.0.1:1/cb")
	other := idTokenFor(t, o, "anderes-programm", "anders-geheim", "http://127.0.0.1:1/cb", "nonce-1")
	if _, err := m.OIDC.VerifyIDToken(context.Background(), other, "nonce-1"); !errors.Is(err, auth.ErrOIDC) {
		t.Errorf("an ID token for another audience: %v", err)
	}
	o2 := startOP(t)
	o2.clients["hansewiki"] = storage.WebClient("hansewiki", "hansewiki-geheim", "http://127.0.0.1:1/cb")
	foreign := idTokenFor(t, o2, "hansewiki", "hansewiki-geheim", "http://127.0.0.1:1/cb", "nonce-2")
	if _, err := m.OIDC.VerifyIDToken(context.Background(), foreign, "nonce-2"); !errors.Is(err, auth.ErrOIDC) {
		t.Errorf("an ID token of another issuer: %v", err)
	}
	// The same flow for the wiki's own client passes the same check, and
	// a wrong nonce does not.
	own2 := idTokenFor(t, o, "hansewiki", "hansewiki-geheim", m.URL()+"/auth/oidc/callback", "nonce-3")
	if _, err := m.OIDC.VerifyIDToken(context.Background(), own2, "nonce-3"); err != nil {
		t.Errorf("the wiki's own ID token: %v", err)
	}
	if _, err := m.OIDC.VerifyIDToken(context.Background(), own2, "nonce-x"); !errors.Is(err, auth.ErrOIDC) {
		t.Errorf("a wrong nonce: %v", err)
	}
}

// idTokenFor runs the code flow at o for a client directly and returns
// the ID token the provider issues.
func idTokenFor(t *testing.T, o *testOP, clientID, secret, redirect, nonce string) string {
	t.Helper()
	jar := newClient(t, o.issuer).http
	auth := o.issuer + "/auth?" + url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"s"}, "nonce": {nonce}}.Encode()
	cb := providerLogin(t, jar, auth, "bert@rostock.test", "idp-passwort-bert", redirect)
	u, _ := url.Parse(cb)
	req, _ := http.NewRequest("POST", o.issuer+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {u.Query().Get("code")}, "redirect_uri": {redirect}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.IDToken == "" {
		t.Fatalf("no ID token from the provider for %s: %d", clientID, resp.StatusCode)
	}
	return tok.IDToken
}

// A half configuration or an unreadable role map stops the start, loudly.
func TestOpenIDConfigurationIsChecked(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	for name, c := range map[string]Config{
		"issuer only":    {OIDCIssuer: "https://idp.example"},
		"no secret":      {OIDCIssuer: "https://idp.example", OIDCClientID: "hansewiki"},
		"role map alone": {OIDCRoleMap: "g=author:luebeck"},
		"bad role map":   {OIDCIssuer: "https://idp.example", OIDCClientID: "hansewiki", OIDCClientSecret: "x", OIDCRoleMap: "g=chef:luebeck"},
	} {
		c.DatabaseURL, c.Addr = dbURL, "127.0.0.1:0"
		m := &Main{Config: c, Log: discardLogger()}
		err := m.Open(context.Background())
		m.Close()
		if err == nil || !strings.Contains(err.Error(), "OIDC_") {
			t.Errorf("%s: %v, want a refusal naming the variable", name, err)
		}
	}
}
