package main

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"hansewiki/migrations/pgtest"
)

// mailbox is a real SMTP server (go-smtp) in the test process that keeps
// every message it accepts, decoded.
type mailbox struct {
	mu   sync.Mutex
	msgs []boxed
	addr string
}

type boxed struct{ To, Subject, Body string }

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &boxSession{mb: mb}, nil }))
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return mb
}

type boxSession struct {
	mb *mailbox
	to string
}

func (s *boxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *boxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *boxSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, boxed{To: s.to, Subject: subject, Body: strings.ReplaceAll(string(b), "\r\n", "\n")})
	s.mb.mu.Unlock()
	return nil
}
func (s *boxSession) Reset()        {}
func (s *boxSession) Logout() error { return nil }

// waitMail waits for a message to addr whose subject contains subject.
func (mb *mailbox) waitMail(t *testing.T, to, subject string) boxed {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		mb.mu.Lock()
		for _, m := range mb.msgs {
			if m.To == to && strings.Contains(m.Subject, subject) {
				mb.mu.Unlock()
				return m
			}
		}
		mb.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no mail %q to %s arrived", subject, to)
	return boxed{}
}

func (mb *mailbox) count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.msgs)
}

const signonBase = "http://wiki.test"

// startMailServer runs Main with mail going to mb; links in mails start
// with signonBase.
func startMailServer(t *testing.T, dbURL string, mb *mailbox) *Main {
	t.Helper()
	m := &Main{Config: Config{DatabaseURL: dbURL, Addr: "127.0.0.1:0", BaseURL: signonBase,
		SMTPURL: "smtp://" + mb.addr + "?from=wiki@hansewiki.test&tls=none"}, Log: discardLogger()}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	return serve(t, m)
}

var linkRe = regexp.MustCompile(regexp.QuoteMeta(signonBase) + `(/[a-z/]+\?token=[A-Za-z0-9_%-]+)`)

// linkIn finds the one wiki link a mail carries, as a path on the server.
func linkIn(t *testing.T, body string) string {
	t.Helper()
	m := linkRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link in mail:\n%s", body)
	}
	return m[1]
}

func setEmail(t *testing.T, dbURL, user, email string) {
	t.Helper()
	conn, err := pgxConnect(t, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE users SET email = $2 WHERE username = $1`, user, email); err != nil {
		t.Fatal(err)
	}
}

// A reset mail is followed to a working password: other sessions end, the
// link works once, and the answer to an unknown address is the same.
func TestPasswordResetByMail(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "greta", [2]string{"author", "wismar"})
	setEmail(t, dbURL, "greta", "greta@wismar.test")
	mb := startMailbox(t)
	m := startMailServer(t, dbURL, mb)

	other := newClient(t, m.URL())
	other.login("greta", testPassword)

	ask := func(email string) (int, string, http.Header) {
		c := newClient(t, m.URL())
		_, page := c.get("/password/forgot")
		return c.postForm("/password/forgot", url.Values{"csrf_token": {csrfOf(t, page)}, "email": {email}})
	}
	status, _, known := ask("greta@wismar.test")
	status2, _, unknown := ask("niemand@wismar.test")
	if status != http.StatusSeeOther || status2 != status || known.Get("Location") != unknown.Get("Location") {
		t.Errorf("known and unknown addresses answer differently: %d %q / %d %q", status, known.Get("Location"), status2, unknown.Get("Location"))
	}
	msg := mb.waitMail(t, "greta@wismar.test", "Passwort zurücksetzen")
	link := linkIn(t, msg.Body)

	c := newClient(t, m.URL())
	status, page := c.get(link)
	if status != 200 || !strings.Contains(page, "Neues Passwort setzen") {
		t.Fatalf("reset page: %d", status)
	}
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)[1]
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "token": {token}, "password": {"ein-ganz-neues-passwort"}, "password2": {"ein-ganz-neues-passwort"}}
	if status, body, hdr := c.postForm("/password/reset", form); status != http.StatusSeeOther || hdr.Get("Location") != "/login" {
		t.Fatalf("setting the password: %d %.300s", status, body)
	}
	if _, page := c.get("/login"); !strings.Contains(page, "Ihr Passwort ist gesetzt") {
		t.Error("the login page does not confirm the new password")
	}
	c.login("greta", "ein-ganz-neues-passwort")
	if status, _ := other.get("/account"); status != http.StatusSeeOther {
		t.Errorf("the other session survived the reset: %d", status)
	}
	// Single use.
	c2 := newClient(t, m.URL())
	if status, _ := c2.get(link); status != http.StatusNotFound {
		t.Errorf("a used reset link opens: %d", status)
	}
	_, page = c2.get("/password/forgot")
	form.Set("csrf_token", csrfOf(t, page))
	form.Set("password", "noch-ein-anderes-passwort")
	form.Set("password2", "noch-ein-anderes-passwort")
	if status, _, _ := c2.postForm("/password/reset", form); status != http.StatusNotFound {
		t.Errorf("a used reset link sets a password again: %d", status)
	}
	// Expired links do not work either.
	ask("greta@wismar.test")
	waitFor(t, func() bool { return mb.count() >= 2 })
	var last boxed
	mb.mu.Lock()
	last = mb.msgs[len(mb.msgs)-1]
	mb.mu.Unlock()
	conn, _ := pgxConnect(t, dbURL)
	conn.Exec(context.Background(), `UPDATE account_links SET expires_at = now() - interval '1 second' WHERE kind = 'reset'`)
	if status, _ := c2.get(linkIn(t, last.Body)); status != http.StatusNotFound {
		t.Errorf("an expired reset link opens: %d", status)
	}
	// Requests are throttled per address asked for.
	var throttled int
	for range 4 {
		if status, _, _ := ask("viele@wismar.test"); status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("reset requests are not throttled")
	}
	// Only hashes are stored.
	var plain int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM account_links WHERE position($1::bytea IN token_hash) > 0`, []byte(token)).Scan(&plain)
	if plain != 0 {
		t.Error("a link secret is stored in clear")
	}
}

// A city admin invites into their own city only; the invitation mail leads
// to a working account with the role, once.
func TestInvitationByCityAdmin(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	addUser(t, dbURL, "admin-hst", [2]string{"admin", "stralsund"})
	mb := startMailbox(t)
	m := startMailServer(t, dbURL, mb)

	admin := newClient(t, m.URL())
	admin.login("admin-hst", testPassword)
	_, page := admin.get("/admin/c/stralsund")
	csrf := csrfOf(t, page)
	if status, _, _ := admin.postForm("/admin/c/wismar/invitations", url.Values{"csrf_token": {csrf}, "email": {"x@wismar.test"}, "role": {"admin"}}); status != http.StatusForbidden {
		t.Errorf("city admin invites into another city: %d", status)
	}
	if status, _, _ := admin.postForm("/admin/invitations", url.Values{"csrf_token": {csrf}, "email": {"x@wismar.test"}, "role": {"admin"}, "city": {"*"}}); status != http.StatusForbidden {
		t.Errorf("city admin invites network-wide: %d", status)
	}
	// A city admin's form cannot carry another city either: the route's city wins.
	if status, body, _ := admin.postForm("/admin/c/stralsund/invitations", url.Values{"csrf_token": {csrf}, "email": {"neu@stralsund.test"}, "role": {"reviewer"}, "city": {"wismar"}}); status != http.StatusSeeOther {
		t.Fatalf("inviting: %d %.300s", status, body)
	}
	msg := mb.waitMail(t, "neu@stralsund.test", "Einladung")
	link := linkIn(t, msg.Body)

	c := newClient(t, m.URL())
	status, page := c.get(link)
	if status != 200 || !strings.Contains(page, "neu@stralsund.test") {
		t.Fatalf("invitation page: %d", status)
	}
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)[1]
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "token": {token}, "username": {"Neu.Hst"}, "display_name": {"Nele Neu"},
		"password": {"ein-gutes-passwort"}, "password2": {"ein-gutes-passwort"}}
	if status, body, hdr := c.postForm("/invitation", form); status != http.StatusSeeOther || hdr.Get("Location") != "/account" {
		t.Fatalf("accepting: %d %.300s", status, body)
	}
	var me struct {
		Username string
		Roles    []struct{ City, Role string }
	}
	c.token = apiTokenPw(t, m.URL(), "neu.hst", "ein-gutes-passwort")
	_, body := c.get("/api/v1/me")
	if !strings.Contains(body, `"city":"stralsund","role":"reviewer"`) || strings.Contains(body, "wismar") {
		t.Errorf("the invited account's roles: %s", body)
	}
	_ = me
	c2 := newClient(t, m.URL())
	if status, _ := c2.get(link); status != http.StatusNotFound {
		t.Errorf("an accepted invitation opens again: %d", status)
	}
}

func apiTokenPw(t *testing.T, base, user, pw string) string {
	t.Helper()
	c := newClient(t, base)
	status, body := c.sendJSON("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pw})
	m := regexp.MustCompile(`"token":"([^"]+)"`).FindStringSubmatch(body)
	if status != 200 || m == nil {
		t.Fatalf("API login %s: %d %s", user, status, body)
	}
	return m[1]
}
