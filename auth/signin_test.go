package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
)

// A parallel burst of guesses, spread over two instances sharing one
// database, is counted before any password is checked: only the limit gets
// verified, and the right password does not get in once the limit is spent.
func TestParallelGuessesAreVerifiedAtMostTheLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	a, err := auth.NewService(ctx, pool, auth.Options{ConcurrentHashes: 8})
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.NewService(ctx, pool, auth.Options{ConcurrentHashes: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(ctx, auth.NewUser{Username: "greta", Password: password}, "test"); err != nil {
		t.Fatal(err)
	}
	before := a.Hasher().Verifications() + b.Hasher().Verifications()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var signedIn, throttled int
	for i := range 40 {
		wg.Go(func() {
			s := a
			if i%2 == 1 {
				s = b
			}
			pw := fmt.Sprintf("falsch-%02d-passwort", i)
			if i == 39 {
				pw = password
			}
			_, err := login(s, "greta", pw, fmt.Sprintf("198.51.100.%d", i))
			var th *auth.ThrottledError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				signedIn++
			case errors.As(err, &th):
				throttled++
			case !errors.Is(err, auth.ErrBadCredentials):
				t.Errorf("guess %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	verified := a.Hasher().Verifications() + b.Hasher().Verifications() - before
	// A sign-in with the right password is no failure and gives its place
	// back; the limit bounds the wrong passwords checked.
	if wrong := verified - int64(signedIn); wrong > 5 {
		t.Errorf("a burst of 40 guesses verified %d wrong passwords; the limit is 5", wrong)
	}
	if throttled < 40-5-signedIn || signedIn > 1 {
		t.Errorf("%d guesses throttled, %d signed in", throttled, signedIn)
	}
	// The limit is spent by the burst (unless the right password was among
	// the verified ones): the right password is refused without a check.
	if signedIn == 0 {
		before = a.Hasher().Verifications()
		_, err := login(a, "greta", password, "192.0.2.77")
		var th *auth.ThrottledError
		if !errors.As(err, &th) || a.Hasher().Verifications() != before {
			t.Errorf("right password after the burst: %v, %d verifications", err, a.Hasher().Verifications()-before)
		}
	}
	// The password change check is throttled the same way.
	id := mustUserNoLogin(t, a, "paul")
	for i := range 8 {
		a.ChangePassword(ctx, id, fmt.Sprintf("rate-%d-mal-falsch", i), "ein-neues-passwort", nil)
	}
	if _, err := a.ChangePassword(ctx, id, password, "ein-neues-passwort", nil); !errors.As(err, new(*auth.ThrottledError)) {
		t.Errorf("change with the right password after 8 wrong ones: %v, want throttled", err)
	}
}

func mustUserNoLogin(t *testing.T, s *auth.Service, name string) *auth.Identity {
	t.Helper()
	u, err := s.CreateUser(context.Background(), auth.NewUser{Username: name, Password: password}, "test")
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.IdentityByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Someone who knows only user names, or shares the user's address, cannot
// lock the user out: the browser the user signed in with before is not
// blocked by their failures, and the shared address is slowed down, not shut.
func TestFailuresElsewhereDoNotLockOutAKnownBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	const office = "203.0.113.5" // the city's network, attacker included
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "greta", Password: password}, "test"); err != nil {
		t.Fatal(err)
	}
	first, err := login(s, "greta", password, office)
	if err != nil || first.Device == "" {
		t.Fatalf("first sign-in: %v (device %q)", err, first.Device)
	}
	browser := []string{"hwd_" + "fremdertokenfremdertokenfremdertokenfremd", first.Device}

	// The attacker, from the same address: made-up names, then greta's.
	for i := range 40 {
		login(s, fmt.Sprintf("erfunden%d", i), "irgendwas-geraten", office)
	}
	for range 10 {
		login(s, "greta", "irgendwas-geraten", "198.51.100.66")
	}
	if _, err := login(s, "greta", password, office); !errors.As(err, new(*auth.ThrottledError)) {
		t.Fatalf("a browser greta never used: %v, want throttled", err)
	}

	// Greta's own browser signs in, and its token is replaced.
	in, err := s.Login(ctx, auth.Attempt{Username: "Greta", Password: password, Addr: office, Devices: browser, Remember: true})
	if err != nil {
		t.Fatalf("greta's known browser is locked out: %v", err)
	}
	if in.Replaced != first.Device || in.Device == first.Device {
		t.Errorf("device token not rotated: replaced %q", in.Replaced)
	}
	// The replaced token no longer counts; the new one does.
	if _, err := s.Login(ctx, auth.Attempt{Username: "greta", Password: password, Addr: office, Devices: []string{first.Device}, Remember: true}); !errors.As(err, new(*auth.ThrottledError)) {
		t.Errorf("a replaced device token still exempts: %v", err)
	}
	// Another user's device token does not exempt greta.
	other, _ := s.CreateUser(ctx, auth.NewUser{Username: "otto", Password: password}, "test")
	_ = other
	ottoIn, err := login(s, "otto", password, "192.0.2.200")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, auth.Attempt{Username: "greta", Password: password, Addr: office, Devices: []string{ottoIn.Device}}); !errors.As(err, new(*auth.ThrottledError)) {
		t.Errorf("otto's device token exempts greta: %v", err)
	}

	// The known browser's own failures count on their own: five, then it
	// waits like everyone else.
	known := []string{in.Device}
	// A client that keeps no cookie (the API) is let in by the token but
	// gets none, and the browser's token stays as it was.
	if api, err := s.Login(ctx, auth.Attempt{Username: "greta", Password: password, Addr: office, Devices: known}); err != nil || api.Device != "" || api.Replaced != "" {
		t.Errorf("sign-in without remembering: %+v, %v", api, err)
	}
	for range 5 {
		if _, err := s.Login(ctx, auth.Attempt{Username: "greta", Password: "vertippt-vertippt", Addr: office, Devices: known}); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("known browser's typo: %v", err)
		}
	}
	if _, err := s.Login(ctx, auth.Attempt{Username: "greta", Password: password, Addr: office, Devices: known}); !errors.As(err, new(*auth.ThrottledError)) {
		t.Errorf("known browser after 5 own failures: %v, want throttled", err)
	}
}

// Beyond the per-address limit an address is slowed down to one attempt per
// Window/PerAddress, never shut for the whole window.
func TestAddressLimitSlowsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s, err := auth.NewService(ctx, pool, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "greta", Password: password}, "test"); err != nil {
		t.Fatal(err)
	}
	const addr = "2001:db8:1:2::7"
	for i := range s.Throttle.PerAddress {
		// Other addresses of the same /64 count as the same client.
		if _, err := login(s, fmt.Sprintf("erfunden%d", i), "irgendwas-geraten", fmt.Sprintf("2001:db8:1:2::%x", i+100)); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err = login(s, "greta", password, addr)
	var th *auth.ThrottledError
	spacing := s.Throttle.Window / time.Duration(s.Throttle.PerAddress)
	if !errors.As(err, &th) || th.RetryAfter > spacing {
		t.Fatalf("over the address limit: %v, want a wait of at most %v", err, spacing)
	}
	// Once the spacing has passed (moved back in the database rather than
	// waited for), the next attempt is let through although the window is
	// still full.
	if _, err := pool.Exec(ctx, `UPDATE login_failures SET at = at - $1::interval`, spacing.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := login(s, "greta", password, addr); err != nil {
		t.Fatalf("after the spacing: %v", err)
	}
	// ... and only one: the next waits for the spacing again.
	if _, err := login(s, "greta", "irgendwas-geraten", addr); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("attempt after the spacing: %v", err)
	}
	if _, err := login(s, "greta", password, addr); !errors.As(err, &th) {
		t.Errorf("second attempt within the spacing: %v, want throttled", err)
	}
}

// A password change ends every other session and every login token of the
// account, also one signed in with the old password while it changed;
// personal access tokens stay.
func TestPasswordChangeEndsSessionsAndLoginTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "greta", Password: password}, "test"); err != nil {
		t.Fatal(err)
	}
	here, _ := login(s, "greta", password, "192.0.2.1")
	there, _ := login(s, "greta", password, "192.0.2.2")
	id := here.Identity
	loginToken, _, err := s.LoginToken(ctx, there.Identity)
	if err != nil {
		t.Fatal(err)
	}
	personal, _, _ := s.CreateToken(ctx, id.UserID, auth.TokenPersonal, "Skript", 0, "greta")
	if _, err := s.SessionIdentity(ctx, id.UserID, there.Identity.CredentialsVersion); err != nil {
		t.Fatalf("session before the change: %v", err)
	}

	version, err := s.ChangePassword(ctx, id, password, "ein-ganz-neues-passwort", []string{here.Device})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionIdentity(ctx, id.UserID, there.Identity.CredentialsVersion); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("the other session survived the change: %v", err)
	}
	if _, err := s.SessionIdentity(ctx, id.UserID, version); err != nil {
		t.Errorf("the changing session with the new version: %v", err)
	}
	if _, err := s.TokenIdentity(ctx, loginToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("the login token survived the change: %v", err)
	}
	if _, err := s.TokenIdentity(ctx, personal); err != nil {
		t.Errorf("the personal access token ended with the password: %v", err)
	}
	// A sign-in that checked the old password just before the change is of
	// the old version, so its session and token end with the others.
	stale := *there.Identity
	if tok, _, err := s.LoginToken(ctx, &stale); err != nil {
		t.Fatal(err)
	} else if _, err := s.TokenIdentity(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("a login token of the old credentials works: %v", err)
	}

	// The administrator's reset (CLI) ends every session, this one too.
	if err := s.SetPassword(ctx, "GRETA", "noch-ein-neues-passwort", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionIdentity(ctx, id.UserID, version); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("a session survived the reset: %v", err)
	}
	// Disabling ends sessions and login tokens for good: enabling again
	// brings none back.
	in, err := login(s, "greta", "noch-ein-neues-passwort", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := s.LoginToken(ctx, in.Identity)
	s.SetDisabled(ctx, "Greta", true, "test")
	s.SetDisabled(ctx, "greta", false, "test")
	if _, err := s.SessionIdentity(ctx, id.UserID, in.Identity.CredentialsVersion); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("a session came back after disabling and enabling: %v", err)
	}
	if _, err := s.TokenIdentity(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("a login token came back after disabling and enabling: %v", err)
	}
	if _, err := s.TokenIdentity(ctx, personal); err != nil {
		t.Errorf("personal token after enabling: %v", err)
	}
}

// Every entry point takes a user name in any case and with surrounding
// blanks as the same account.
func TestUserNamesAreNormalizedEverywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t)
	u, err := s.CreateUser(ctx, auth.NewUser{Username: " Anna.Berg ", Password: password}, "test")
	if err != nil || u.Username != "anna.berg" {
		t.Fatalf("created %q, %v", u.Username, err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "ANNA.BERG", Password: password}, "test"); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("second account in other case: %v", err)
	}
	if got, err := s.User(ctx, "Anna.BERG"); err != nil || got.ID != u.ID {
		t.Errorf("User(Anna.BERG) = %+v, %v", got, err)
	}
	if err := s.Grant(ctx, "ANNA.berg", "author", "wismar", "test"); err != nil {
		t.Errorf("grant: %v", err)
	}
	if err := s.SetPassword(ctx, "Anna.Berg", "ein-neues-passwort", "test"); err != nil {
		t.Errorf("set password: %v", err)
	}
	in, err := login(s, "ANNA.BERG ", "ein-neues-passwort", "192.0.2.1")
	if err != nil || in.Identity.Username != "anna.berg" || len(in.Identity.Grants) != 1 {
		t.Fatalf("login: %+v, %v", in, err)
	}
	if err := s.Revoke(ctx, "Anna.Berg", "author", "wismar", "test"); err != nil {
		t.Errorf("revoke: %v", err)
	}
	if err := s.SetDisabled(ctx, "ANNA.BERG", true, "test"); err != nil {
		t.Errorf("disable: %v", err)
	}
	// Only ASCII folds: the Kelvin sign is not a k.
	if got := auth.NormalizeUsername("\u212Aai"); got == "kai" {
		t.Errorf("NormalizeUsername folded a Unicode look-alike: %q", got)
	}
}
