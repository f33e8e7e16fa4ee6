package workflow_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"hansewiki/workflow"
)

// delivered is one message as the SMTP server received it.
type delivered struct {
	From      string   // envelope sender
	To        []string // envelope recipients
	User      string   // who authenticated, if anyone
	Raw       string
	Header    mail.Header
	Subject   string // decoded
	Body      string // decoded
	MessageID string
}

// mailServer is a real SMTP server (go-smtp) in the test process that keeps
// every message it accepts.
type mailServer struct {
	t      testing.TB
	srv    *smtp.Server
	addr   string
	mu     sync.Mutex
	msgs   []delivered
	logins map[string]string // username → password it accepts; nil: no AUTH
	delay  time.Duration     // per message, to let concurrent senders overlap
}

// startMailServer serves SMTP on addr ("127.0.0.1:0" for any port) until
// the test ends.
func startMailServer(t testing.TB, addr string, configure ...func(*mailServer)) *mailServer {
	t.Helper()
	ms := &mailServer{t: t}
	for _, f := range configure {
		f(ms)
	}
	ms.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{ms: ms}, nil }))
	ms.srv.Domain = "mail.test"
	ms.srv.AllowInsecureAuth = true
	ms.srv.ReadTimeout = 10 * time.Second
	ms.srv.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	go ms.srv.Serve(l)
	t.Cleanup(func() { ms.srv.Close() })
	return ms
}

func (ms *mailServer) port() string {
	_, port, _ := net.SplitHostPort(ms.addr)
	return port
}

func (ms *mailServer) received() []delivered {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Clone(ms.msgs)
}

type mailSession struct {
	ms   *mailServer
	user string
	from string
	to   []string
}

func (s *mailSession) AuthMechanisms() []string {
	if s.ms.logins == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if pw, ok := s.ms.logins[username]; !ok || pw != password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.ms.logins != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(s.ms.delay)
	d := delivered{From: s.from, To: slices.Clone(s.to), User: s.user, Raw: string(raw)}
	msg, err := mail.ReadMessage(strings.NewReader(d.Raw))
	if err != nil {
		s.ms.t.Errorf("unreadable message: %v\n%s", err, raw)
		return err
	}
	d.Header = msg.Header
	d.MessageID = msg.Header.Get("Message-ID")
	if d.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		s.ms.t.Errorf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		s.ms.t.Errorf("body: %v", err)
	}
	d.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, d)
	s.ms.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

const (
	mailFrom    = "wiki@hansewiki.example"
	mailBaseURL = "https://wiki.smarte-hanse.example"
)

// mailSettings points at an SMTP server on 127.0.0.1:port without TLS.
func mailSettings(t testing.TB, port string) *workflow.MailSettings {
	t.Helper()
	s, err := workflow.ParseSMTPURL("smtp://127.0.0.1:"+port+"?from="+mailFrom, mailBaseURL+"/")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain calls SendDue until nothing is due, and fails on errors.
func drain(t testing.TB, m *workflow.Mailer) int {
	t.Helper()
	total := 0
	for range 1000 {
		n, err := m.SendDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("the mail queue never ran empty")
	return total
}

func recipients(msgs []delivered) []string {
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	return to
}

// blockCommits makes every transaction that queues mail wait at COMMIT
// until release is called, so a test can look at the queue while the
// transition's rows exist but are not committed. Transactions whose mail
// subject contains "Sabotage" fail at COMMIT and roll back.
func (e *env) blockCommits() (waiting func() bool, release func()) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `
		CREATE FUNCTION test_mail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_advisory_xact_lock_shared(4711);
			IF NEW.subject LIKE '%Sabotage%' THEN
				RAISE EXCEPTION 'sabotaged commit';
			END IF;
			RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER test_mail_commit AFTER INSERT ON mail_queue
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_mail_commit();`); err != nil {
		e.t.Fatal(err)
	}
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(4711)`); err != nil {
		e.t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.Exec(ctx, `SELECT pg_advisory_unlock(4711)`)
			conn.Release()
		})
	}
	e.t.Cleanup(release)
	waiting = func() bool {
		var n int
		e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4711 AND NOT granted`).Scan(&n)
		return n > 0
	}
	return waiting, release
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 20s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A submission mails the city's reviewers and a publication the author,
// only once the transition has committed; a transition that rolls back
// sends nothing.
func TestMailAfterCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	server := startMailServer(t, "127.0.0.1:0")
	e.wf.Mail = mailSettings(t, server.port())
	mailer := workflow.NewMailer(e.pool, e.wf.Mail, quiet)
	waiting, release := e.blockCommits()

	a := e.current("warnow-pegel")
	d := a.Revision.Draft()
	d.Title = "Pegelstände der Warnow – Übersicht für Hochwasserlagen"
	d.Body = "Neue Messstellen an der Unterwarnow."
	type result struct {
		c   *workflow.Change
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := e.wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true})
		done <- result{c, err}
	}()
	waitUntil(t, "the submission waits at COMMIT", waiting)
	// The notification mails are written but not committed: no mailer sees them.
	if n := drain(t, mailer); n != 0 || len(server.received()) != 0 {
		t.Fatalf("before COMMIT %d mails were handled and %d delivered", n, len(server.received()))
	}
	release()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	c := r.c
	drain(t, mailer)

	submitted := server.received()
	reviewers := []string{"admin-hro@example.org", "pruefer1@example.org", "pruefer2@example.org", "pruefer3@example.org"}
	if got := recipients(submitted); !slices.Equal(got, reviewers) {
		t.Fatalf("submission mailed %v, want Rostock's reviewers %v", got, reviewers)
	}
	link := fmt.Sprintf("%s/changes/%d", mailBaseURL, c.ID)
	for _, m := range submitted {
		if want := "[Hansewiki] Neue Änderung zur Prüfung: " + d.Title; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		raw := m.Header.Get("Subject")
		if !strings.Contains(raw, "=?utf-8?q?") || strings.ContainsFunc(raw, func(r rune) bool { return r > 127 }) {
			t.Errorf("subject header not RFC 2047 encoded: %q", raw)
		}
		if !strings.Contains(m.Body, link) || !strings.Contains(m.Body, "rostock/warnow-pegel") || !strings.Contains(m.Body, "autorin") {
			t.Errorf("body lacks the link %s, the article or the author:\n%s", link, m.Body)
		}
		if m.From != mailFrom || !strings.Contains(m.Header.Get("From"), mailFrom) || m.Header.Get("To") != m.To[0] {
			t.Errorf("envelope %s → %v, headers From %q To %q", m.From, m.To, m.Header.Get("From"), m.Header.Get("To"))
		}
		if _, err := m.Header.Date(); err != nil || m.MessageID == "" {
			t.Errorf("Date %q (%v), Message-ID %q", m.Header.Get("Date"), err, m.MessageID)
		}
	}

	// Approval by a reviewer publishes (quorum 1) and tells the author.
	if c = e.must(e.wf.Approve(ctx, e.meta("pruefer1"), c.ID, "Danke!", 0)); c.State != workflow.Published {
		t.Fatalf("after approval: %s", c.State)
	}
	drain(t, mailer)
	published := server.received()[len(submitted):]
	if got := recipients(published); !slices.Equal(got, []string{"autorin@example.org"}) {
		t.Fatalf("publication mailed %v, want the author", got)
	}
	if m := published[0]; m.Subject != "[Hansewiki] Veröffentlicht: "+d.Title || !strings.Contains(m.Body, link) || !strings.Contains(m.Body, "pruefer1") {
		t.Errorf("publication mail: %q\n%s", m.Subject, m.Body)
	}

	// A transition that fails at COMMIT (after its mail was queued) leaves
	// no mail behind.
	before := len(server.received())
	a = e.current("warnow-pegel")
	d.Title = "Sabotage"
	if _, err := e.wf.Create(ctx, e.meta("autorin"), workflow.Proposal{Draft: d, Slug: a.Slug, BaseRevision: a.Revision.ID, Submit: true}); err == nil {
		t.Fatal("the sabotaged transition committed")
	}
	var queued int
	e.pool.QueryRow(ctx, `SELECT count(*) FROM mail_queue WHERE subject LIKE '%Sabotage%'`).Scan(&queued)
	if n := drain(t, mailer); n != 0 || queued != 0 || len(server.received()) != before {
		t.Fatalf("after a rollback: %d queued, %d handled, %d delivered", queued, n, len(server.received())-before)
	}
}

// freePort returns a local port nobody listens on (yet).
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

type queuedMail struct {
	To, MessageID string
}

func queued(t testing.TB, e *env) []queuedMail {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT to_addr, message_id FROM mail_queue ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queuedMail
	for rows.Next() {
		var q queuedMail
		if err := rows.Scan(&q.To, &q.MessageID); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

// exactlyOnce checks that every queued mail reached its recipient once,
// counted by Message-ID, and that nothing else arrived.
func exactlyOnce(t testing.TB, want []queuedMail, got []delivered) {
	t.Helper()
	to := map[string]string{}
	for _, q := range want {
		to[q.MessageID] = q.To
	}
	seen := map[string]int{}
	for _, m := range got {
		seen[m.MessageID]++
		if rcpt, ok := to[m.MessageID]; !ok || !slices.Equal(m.To, []string{rcpt}) {
			t.Errorf("message %s went to %v; queued for %q", m.MessageID, m.To, rcpt)
		}
	}
	for _, q := range want {
		if seen[q.MessageID] != 1 {
			t.Errorf("%s to %s arrived %d times", q.MessageID, q.To, seen[q.MessageID])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d messages arrived for %d queued", len(got), len(want))
	}
}

// While the SMTP server is down the queue keeps every mail and records the
// failed attempts; once it is back, every mail arrives exactly once.
func TestMailServerDownAndBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	port := freePort(t)
	e.wf.Mail = mailSettings(t, port)
	mailer := workflow.NewMailer(e.pool, e.wf.Mail, quiet)
	mailer.MaxBackoff = 300 * time.Millisecond
	mailer.Poll = 50 * time.Millisecond

	first := e.propose("autorin", "Erste Fassung", true)
	e.propose("autorin", "Zweite Fassung", true)
	e.propose("autor-hwi", "Dritte Fassung", true)
	e.must(e.wf.Approve(ctx, e.meta("pruefer2"), first.ID, "", 0))
	want := queued(t, e)
	if len(want) != 3*4+1 {
		t.Fatalf("%d mails queued, want 13 (3 submissions to 4 reviewers, 1 publication)", len(want))
	}

	// Nobody listens on the port: every mail is tried, none is lost.
	for i := 0; ; i++ {
		var untried int
		e.pool.QueryRow(ctx, `SELECT count(*) FROM mail_queue WHERE attempts = 0`).Scan(&untried)
		if untried == 0 {
			break
		}
		if i == 200 {
			t.Fatalf("%d mails never tried", untried)
		}
		if _, err := mailer.SendDue(ctx); err != nil {
			t.Fatalf("SendDue with the server down: %v", err)
		}
	}
	var total, unsent, failed, backedOff int
	var lastError string
	e.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL),
			count(*) FILTER (WHERE attempts >= 1 AND last_error <> ''), count(*) FILTER (WHERE next_attempt_at > created_at),
			max(last_error)
		FROM mail_queue`).Scan(&total, &unsent, &failed, &backedOff, &lastError)
	if total != len(want) || unsent != total || failed != total || backedOff != total {
		t.Fatalf("with the server down: %d mails, %d unsent, %d with a recorded failure, %d backed off", total, unsent, failed, backedOff)
	}
	if !strings.Contains(lastError, "connection refused") {
		t.Errorf("last_error = %q, want the connection failure", lastError)
	}

	// The server comes back on the configured port; the mailer, running as
	// in production, delivers after the backoff.
	server := startMailServer(t, "127.0.0.1:"+port)
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { mailer.Run(runCtx); close(stopped) }()
	waitUntil(t, "all mail sent", func() bool {
		var n int
		e.pool.QueryRow(ctx, `SELECT count(*) FROM mail_queue WHERE sent_at IS NULL`).Scan(&n)
		return n == 0
	})
	cancel()
	<-stopped
	exactlyOnce(t, want, server.received())
}

// Two instances drain one queue at the same time: every mail is sent once.
func TestMailTwoInstancesShareTheQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	server := startMailServer(t, "127.0.0.1:0", func(ms *mailServer) { ms.delay = 2 * time.Millisecond })
	e.wf.Mail = mailSettings(t, server.port())
	for i := range 12 {
		e.propose("autorin", fmt.Sprintf("Fassung %d", i), true)
	}
	want := queued(t, e)
	if len(want) != 48 {
		t.Fatalf("%d mails queued, want 48", len(want))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	handled := make([]int, 2)
	for i := range handled {
		mailer := workflow.NewMailer(e.pool, e.wf.Mail, quiet)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			handled[i] = drain(t, mailer)
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("instance 1 sent %d, instance 2 sent %d", handled[0], handled[1])
	var unsent int
	e.pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_queue WHERE sent_at IS NULL`).Scan(&unsent)
	if unsent != 0 {
		t.Errorf("%d mails left unsent", unsent)
	}
	exactlyOnce(t, want, server.received())
}

// queueMail puts one message straight into the queue, as notify would.
func queueMail(t testing.TB, e *env, id, to, subject, body string) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), `INSERT INTO mail_queue (to_addr, subject, body, message_id) VALUES ($1, $2, $3, $4)`,
		to, subject, body, "<"+id+"@hansewiki.example>"); err != nil {
		t.Fatal(err)
	}
}

// What a recipient reads is what was queued: lines starting with a dot
// (dot-stuffing), umlauts in the body, and a subject far longer than one
// header line.
func TestMailContentSurvivesTransport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	server := startMailServer(t, "127.0.0.1:0")
	mailer := workflow.NewMailer(e.pool, mailSettings(t, server.port()), quiet)
	subject := "[Hansewiki] Neue Änderung zur Prüfung: " + strings.Repeat("Überflutungsvorsorge für Grünflächen ", 5)
	body := "Zeile eins\n.\n.versteckt\n..doppelt\nGrüße aus Wismar – äöüß ÄÖÜ\n" + strings.Repeat("lang ", 300) + "\nEnde\n"
	queueMail(t, e, "inhalt", "pruefer1@example.org", subject, body)
	if n := drain(t, mailer); n != 1 {
		t.Fatalf("%d mails handled", n)
	}
	got := server.received()
	if len(got) != 1 {
		t.Fatalf("%d mails arrived", len(got))
	}
	if got[0].Subject != subject {
		t.Errorf("subject arrived as %q", got[0].Subject)
	}
	if got[0].Body != body {
		t.Errorf("body arrived as %q", got[0].Body)
	}
	for _, line := range strings.Split(got[0].Raw, "\r\n") {
		if len(line) > 998 {
			t.Errorf("a line of %d characters exceeds SMTP's limit", len(line))
		}
	}
}

// selfSignedTLS is a server certificate no client trusts.
func selfSignedTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// The SMTP_URL options against servers with and without TLS and AUTH.
func TestMailTransportOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name      string
		server    func(*mailServer)
		url       string // %s is the port
		delivered bool
		user      string
		lastError string
	}{
		{name: "no TLS offered, default", url: "smtp://127.0.0.1:%s?from=" + mailFrom, delivered: true},
		{name: "STARTTLS required but not offered", url: "smtp://127.0.0.1:%s?tls=starttls&from=" + mailFrom, lastError: "STARTTLS"},
		{name: "STARTTLS with an untrusted certificate",
			server: func(ms *mailServer) { ms.srv.TLSConfig = selfSignedTLS(t) },
			url:    "smtp://127.0.0.1:%s?from=" + mailFrom, lastError: "certificate"},
		{name: "tls=none ignores offered STARTTLS",
			server: func(ms *mailServer) { ms.srv.TLSConfig = selfSignedTLS(t) },
			url:    "smtp://127.0.0.1:%s?tls=none&from=" + mailFrom, delivered: true},
		{name: "login",
			server: func(ms *mailServer) { ms.logins = map[string]string{"hansewiki": "gehe!m"} },
			url:    "smtp://hansewiki:gehe%%21m@127.0.0.1:%s?from=" + mailFrom, delivered: true, user: "hansewiki"},
		{name: "wrong password",
			server: func(ms *mailServer) { ms.logins = map[string]string{"hansewiki": "gehe!m"} },
			url:    "smtp://hansewiki:falsch@127.0.0.1:%s?from=" + mailFrom, lastError: "Authentication failed"},
		{name: "login required but not configured",
			server: func(ms *mailServer) { ms.logins = map[string]string{"hansewiki": "gehe!m"} },
			url:    "smtp://127.0.0.1:%s?from=" + mailFrom, lastError: "authenticate"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := startMailServer(t, "127.0.0.1:0")
			if tc.server != nil {
				tc.server(server)
			}
			settings, err := workflow.ParseSMTPURL(fmt.Sprintf(tc.url, server.port()), mailBaseURL)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.pool.Exec(ctx, `DELETE FROM mail_queue`); err != nil {
				t.Fatal(err)
			}
			queueMail(t, e, fmt.Sprint("fall-", i), "pruefer1@example.org", "Prüfung", "Hallo")
			if _, err := workflow.NewMailer(e.pool, settings, quiet).SendDue(ctx); err != nil {
				t.Fatal(err)
			}
			var lastError string
			var sent bool
			e.pool.QueryRow(ctx, `SELECT last_error, sent_at IS NOT NULL FROM mail_queue`).Scan(&lastError, &sent)
			got := server.received()
			if tc.delivered {
				if !sent || len(got) != 1 || got[0].User != tc.user {
					t.Fatalf("sent %v, %d arrived (user %q), last_error %q", sent, len(got), tc.user, lastError)
				}
				return
			}
			if sent || len(got) != 0 || !strings.Contains(lastError, tc.lastError) {
				t.Fatalf("sent %v, %d arrived, last_error %q (want it to mention %q)", sent, len(got), lastError, tc.lastError)
			}
		})
	}
}

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url  string
		want workflow.MailSettings // zero: an error is expected
	}{
		{"smtp://mail.rostock.de?from=wiki@rostock.de",
			workflow.MailSettings{Host: "mail.rostock.de", Port: "587", From: "wiki@rostock.de"}},
		{"smtp://wiki%40rostock.de:p%C3%A4ss%3Aw@mail.rostock.de:2525?from=wiki@rostock.de&tls=starttls",
			workflow.MailSettings{Host: "mail.rostock.de", Port: "2525", Username: "wiki@rostock.de", Password: "päss:w", From: "wiki@rostock.de", TLS: "starttls"}},
		{"smtps://nur-name@mail.wismar.de?from=wiki@wismar.de",
			workflow.MailSettings{Host: "mail.wismar.de", Port: "465", Username: "nur-name", From: "wiki@wismar.de", TLS: "tls"}},
		{"smtp://localhost:25?from=wiki@localhost&tls=none",
			workflow.MailSettings{Host: "localhost", Port: "25", From: "wiki@localhost", TLS: "none"}},
		{"smtp://[::1]:2525?from=wiki@example.org",
			workflow.MailSettings{Host: "::1", Port: "2525", From: "wiki@example.org"}},
		{"smtp://mail.example.org?from=Hansewiki%20%3Cwiki@example.org%3E",
			workflow.MailSettings{Host: "mail.example.org", Port: "587", From: "wiki@example.org"}},
		{"smtp://mail.example.org", workflow.MailSettings{}},                              // no from
		{"smtp://mail.example.org?from=kein-absender", workflow.MailSettings{}},           // not an address
		{"http://mail.example.org?from=wiki@example.org", workflow.MailSettings{}},        // wrong scheme
		{"smtp://?from=wiki@example.org", workflow.MailSettings{}},                        // no host
		{"smtp://mail.example.org?from=wiki@example.org&tls=ja", workflow.MailSettings{}}, // unknown tls mode
		{"smtps://mail.example.org?from=wiki@example.org&tls=none", workflow.MailSettings{}},
		{"mail.example.org:587", workflow.MailSettings{}},
	}
	for _, tc := range cases {
		got, err := workflow.ParseSMTPURL(tc.url, "https://wiki.example.org/")
		if tc.want == (workflow.MailSettings{}) {
			if err == nil {
				t.Errorf("%s: accepted as %+v", tc.url, *got)
			}
			continue
		}
		tc.want.BaseURL = "https://wiki.example.org"
		if err != nil || *got != tc.want {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", tc.url, got, err, tc.want)
		}
	}
}
