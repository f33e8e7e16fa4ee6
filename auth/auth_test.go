package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
	"hansewiki/wiki"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newService(t testing.TB) *auth.Service {
	t.Helper()
	s, err := auth.NewService(context.Background(), pgtest.Pool(t), auth.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const password = "korrekt-pferd-batterie"

func mustUser(t testing.TB, s *auth.Service, name string, grants ...auth.Grant) *auth.Identity {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: name, Password: password}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if err := s.Grant(ctx, name, g.Role, g.City, "test"); err != nil {
			t.Fatal(err)
		}
	}
	in, err := s.Login(ctx, auth.Attempt{Username: name, Password: password, Addr: "192.0.2.1", Remember: true})
	if err != nil {
		t.Fatal(err)
	}
	return in.Identity
}

// login is a sign-in of a browser without a device cookie.
func login(s *auth.Service, user, pw, addr string) (*auth.SignIn, error) {
	return s.Login(context.Background(), auth.Attempt{Username: user, Password: pw, Addr: addr, Remember: true})
}

// The permission table of the specification, written out as it stands
// there, checked against the real enforcer and policies in PostgreSQL. C is
// the subject's city (rostock), O another city (wismar).
func TestPermissionTable(t *testing.T) {
	t.Parallel()
	s := newService(t)
	const C, O = "rostock", "wismar"
	subjects := []struct {
		name string
		id   *auth.Identity
	}{
		{"anonymous", nil},
		{"member", mustUser(t, s, "member")},
		{"author@C", mustUser(t, s, "author", auth.Grant{City: C, Role: "author"})},
		{"reviewer@C", mustUser(t, s, "reviewer", auth.Grant{City: C, Role: "reviewer"})},
		{"admin@C", mustUser(t, s, "admin", auth.Grant{City: C, Role: "admin"})},
		{"admin@O", mustUser(t, s, "admin-o", auth.Grant{City: O, Role: "admin"})},
		{"admin@*", mustUser(t, s, "network", auth.Grant{City: "*", Role: "admin"})},
	}
	// want[action][subject] = {allowed in C, allowed in O}
	type both = [2]bool
	y, n := true, false
	actions := []struct {
		name   string
		action auth.Action
		want   map[string]both
	}{
		{"create article", auth.CreateArticle, map[string]both{
			"anonymous": {n, n}, "member": {n, n}, "author@C": {y, n}, "reviewer@C": {n, n},
			"admin@C": {y, n}, "admin@O": {n, y}, "admin@*": {y, y}}},
		{"propose change (any readable article)", auth.ProposeChange, map[string]both{
			"anonymous": {n, n}, "member": {n, n}, "author@C": {y, y}, "reviewer@C": {n, n},
			"admin@C": {y, y}, "admin@O": {y, y}, "admin@*": {y, y}}},
		{"review change", auth.ReviewChange, map[string]both{
			"anonymous": {n, n}, "member": {n, n}, "author@C": {n, n}, "reviewer@C": {y, n},
			"admin@C": {y, n}, "admin@O": {n, y}, "admin@*": {y, y}}},
		{"manage roles and policy", auth.ManageCity, map[string]both{
			"anonymous": {n, n}, "member": {n, n}, "author@C": {n, n}, "reviewer@C": {n, n},
			"admin@C": {y, n}, "admin@O": {n, y}, "admin@*": {y, y}}},
		{"manage cities and topics", auth.ManageNetwork, map[string]both{
			"anonymous": {n, n}, "member": {n, n}, "author@C": {n, n}, "reviewer@C": {n, n},
			"admin@C": {n, n}, "admin@O": {n, n}, "admin@*": {y, y}}},
	}
	for _, a := range actions {
		for _, sub := range subjects {
			for i, city := range []string{C, O} {
				if got := s.Can(sub.id, a.action, city); got != a.want[sub.name][i] {
					t.Errorf("%s may %s in %s: %v, want %v", sub.name, a.name, city, got, a.want[sub.name][i])
				}
			}
		}
	}
	// Reading: want[visibility][subject] = {article of C, article of O}.
	reads := map[wiki.Visibility]map[string]both{
		wiki.Public: {"anonymous": {y, y}, "member": {y, y}, "author@C": {y, y}, "reviewer@C": {y, y},
			"admin@C": {y, y}, "admin@O": {y, y}, "admin@*": {y, y}},
		wiki.Network: {"anonymous": {n, n}, "member": {y, y}, "author@C": {y, y}, "reviewer@C": {y, y},
			"admin@C": {y, y}, "admin@O": {y, y}, "admin@*": {y, y}},
		wiki.CityVis: {"anonymous": {n, n}, "member": {n, n}, "author@C": {y, n}, "reviewer@C": {y, n},
			"admin@C": {y, n}, "admin@O": {n, y}, "admin@*": {y, y}},
	}
	for vis, want := range reads {
		for _, sub := range subjects {
			reader := wiki.Reader{Member: sub.id != nil, Cities: s.ReadableCities(sub.id)}
			for i, city := range []string{C, O} {
				if got := reader.CanRead(city, vis); got != want[sub.name][i] {
					t.Errorf("%s reads a %s article of %s: %v, want %v", sub.name, vis, city, got, want[sub.name][i])
				}
			}
		}
	}
}

func TestRoleChangesReachOtherInstances(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pool := pgtest.Pool(t)
	a, err := auth.NewService(ctx, pool, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.NewService(ctx, pool, auth.Options{}) // a second instance
	if err != nil {
		t.Fatal(err)
	}
	// Wired as cmd/hansewiki wires it: b reloads on the policy channel.
	l := wiki.NewListener(pool, nil)
	l.Subscribe(auth.PolicyChannel, func(context.Context, string) error { return b.ReloadPolicy() })
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-l.Connected()
	id := mustUser(t, a, "lena")
	if err := a.Grant(ctx, "lena", "reviewer", "stralsund", "test"); err != nil {
		t.Fatal(err)
	}
	id, _ = a.IdentityByID(ctx, id.UserID)
	deadline := time.Now().Add(10 * time.Second)
	for !b.Can(id, auth.ReviewChange, "stralsund") {
		if time.Now().After(deadline) {
			t.Fatal("the other instance never saw the new role")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := a.Revoke(ctx, "lena", "reviewer", "stralsund", "test"); err != nil {
		t.Fatal(err)
	}
	for b.Can(id, auth.ReviewChange, "stralsund") {
		if time.Now().After(deadline) {
			t.Fatal("the other instance kept a revoked role")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLoginFailuresLookAlikeAndAreThrottled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	mustUser(t, s, "greta")
	mustUser(t, s, "gesperrt")
	if err := s.SetDisabled(ctx, "gesperrt", true, "test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, pw string }{
		{"greta", "falsches-passwort"}, {"niemand", password}, {"gesperrt", password},
	} {
		if _, err := login(s, c.user, c.pw, "198.51.100.7"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("login %s: %v, want the common ErrBadCredentials", c.user, err)
		}
	}
	// Five failures lock the account for a while, even with the right password.
	for range 5 {
		login(s, "greta", "falsch-falsch", "203.0.113.9")
	}
	_, err := login(s, "greta", password, "203.0.113.10")
	var th *auth.ThrottledError
	if !errors.As(err, &th) || th.RetryAfter <= 0 {
		t.Fatalf("sixth login: %v, want throttled", err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	id := mustUser(t, s, "tim", auth.Grant{City: "luebeck", Role: "author"})
	secret, tok, err := s.CreateToken(ctx, id.UserID, auth.TokenPersonal, "Skript", 0, id.Username)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenIdentity(ctx, secret)
	if err != nil || got.Username != "tim" || len(got.Grants) != 1 {
		t.Fatalf("token identity = %+v, %v", got, err)
	}
	if _, err := s.TokenIdentity(ctx, secret+"x"); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("forged token: %v", err)
	}
	if err := s.RevokeToken(ctx, id, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenIdentity(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked token still works: %v", err)
	}
	short, _, _ := s.CreateToken(ctx, id.UserID, auth.TokenLogin, "", time.Millisecond, id.Username)
	time.Sleep(5 * time.Millisecond)
	if _, err := s.TokenIdentity(ctx, short); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("expired token still works: %v", err)
	}
	live, _, _ := s.CreateToken(ctx, id.UserID, auth.TokenPersonal, "", 0, id.Username)
	s.SetDisabled(ctx, "tim", true, "test")
	if _, err := s.TokenIdentity(ctx, live); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("token of a disabled user still works: %v", err)
	}
}

func TestPasswordsAreArgon2idAndChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := auth.NewHasher(2)
	enc, err := h.Hash(ctx, "Straßenbahn-2025")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; enc[:len(want)] != want {
		t.Fatalf("hash %q lacks the OWASP argon2id parameters", enc)
	}
	if ok, _ := h.Verify(ctx, enc, "Straßenbahn-2025"); !ok {
		t.Error("right password refused")
	}
	if ok, _ := h.Verify(ctx, enc, "strassenbahn-2025"); ok {
		t.Error("wrong password accepted")
	}
	s := newService(t)
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "kurz", Password: "kurz"}, "test"); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "Bad Name", Password: password}, "test"); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("bad user name: %v", err)
	}
	mustUser(t, s, "doppelt")
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "doppelt", Password: password}, "test"); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("duplicate user: %v", err)
	}
}

// Holders answers who may act in a city from the loaded policy, and which
// of them hold the power only through a network-wide role.
func TestHolders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	for _, g := range [][3]string{{"pr", "reviewer", "rostock"}, {"pw", "reviewer", "wismar"}, {"au", "author", "rostock"},
		{"net", "admin", "*"}, {"npr", "reviewer", "*"}, {"both", "admin", "*"}, {"both", "reviewer", "rostock"}} {
		pool.Exec(ctx, `INSERT INTO users (username) VALUES ($1) ON CONFLICT DO NOTHING`, g[0])
		if _, err := pool.Exec(ctx, `INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', $1, $2, $3)`, g[0], g[1], g[2]); err != nil {
			t.Fatal(err)
		}
	}
	s, err := auth.NewService(ctx, pool, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Holders(auth.ReviewChange, "rostock")
	want := []auth.Holder{{Username: "both"}, {Username: "net", NetworkOnly: true}, {Username: "npr", NetworkOnly: true}, {Username: "pr"}}
	if !slices.Equal(got, want) {
		t.Errorf("reviewers of rostock: %+v, want %+v", got, want)
	}
	got = s.Holders(auth.ManageNetwork, "rostock")
	want = []auth.Holder{{Username: "both"}, {Username: "net"}}
	if !slices.Equal(got, want) {
		t.Errorf("network admins: %+v, want %+v", got, want)
	}
}

// Reading with a token does not write on every request: the token's last
// use is recorded once, then again only after a minute. The row's xmin
// (the transaction that last wrote it) shows whether a request wrote.
func TestTokenUseIsRecordedAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s, err := auth.NewService(ctx, pool, auth.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	id := mustUser(t, s, "tara")
	secret, tok, err := s.CreateToken(ctx, id.UserID, auth.TokenPersonal, "Skript", 0, id.Username)
	if err != nil {
		t.Fatal(err)
	}
	state := func() (xmin string, used *time.Time) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT xmin::text, last_used_at FROM api_tokens WHERE id = $1`, tok.ID).Scan(&xmin, &used); err != nil {
			t.Fatal(err)
		}
		return xmin, used
	}
	use := func() {
		t.Helper()
		if _, err := s.TokenIdentity(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	use()
	first, used := state()
	if used == nil {
		t.Fatal("the first use was not recorded")
	}
	for range 5 {
		use()
	}
	if again, _ := state(); again != first {
		t.Errorf("reads within a minute wrote the token row (xmin %s → %s)", first, again)
	}
	if _, err := pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	use()
	if _, later := state(); later == nil || time.Since(*later) > time.Minute {
		t.Errorf("a use after a minute was not recorded: last use %v", later)
	}
}
