package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"hansewiki/auth"
	"hansewiki/migrations/pgtest"
)

// A session ends after two hours without use, although its use is written
// down only once a minute: within the minute nothing is to be written,
// after it the new use is, and past the idle timeout the session is over.
func TestSessionIdleTimeoutWithoutAWritePerRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := auth.NewSessions(pgtest.Pool(t), false)
	t0 := time.Now()

	signedIn, err := s.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignIn(signedIn, &auth.Identity{UserID: 7, CredentialsVersion: 1}); err != nil {
		t.Fatal(err)
	}
	token, _, err := s.Commit(signedIn)
	if err != nil {
		t.Fatal(err)
	}
	// Each step is a new request that loads the stored session.
	request := func() context.Context {
		t.Helper()
		c, err := s.Load(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if uid, _ := s.UserOf(c); uid != 7 {
			t.Fatalf("the stored session lost its user: %d", uid)
		}
		return c
	}
	for _, step := range []struct {
		at     time.Duration
		active bool
		writes bool
	}{
		{30 * time.Second, true, false},
		{59 * time.Second, true, false},
		{90 * time.Second, true, true},
		{auth.SessionIdleTimeout - time.Minute, true, true},
		{auth.SessionIdleTimeout + time.Minute, false, false},
		{3 * time.Hour, false, false},
	} {
		c := request()
		if got := s.Active(c, t0.Add(step.at)); got != step.active {
			t.Errorf("%v after the last recorded use: active = %v, want %v", step.at, got, step.active)
		}
		if got := s.Status(c) == scs.Modified; got != step.writes {
			t.Errorf("%v after the last recorded use: session written = %v, want %v", step.at, got, step.writes)
		}
	}
}
