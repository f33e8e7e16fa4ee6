-- Sign-on and legal pages (issue 12): the legal pages and the
-- accessibility feedback, single-use account links (invitations and password
-- resets), and accounts and roles that come from an OpenID provider.

-- Impressum, Datenschutz, Barrierefreiheit: Markdown that network admins
-- edit; html is the sanitized rendering, written with the text.
CREATE TABLE legal_pages (
    slug       text PRIMARY KEY CHECK (slug IN ('impressum', 'datenschutz', 'barrierefreiheit')),
    body       text NOT NULL,
    html       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT ''
);

-- Messages from the feedback form of the accessibility statement
-- (BITV 2.0 § 7 Abs. 1 Nr. 3): kept, and shown to the network admins.
CREATE TABLE accessibility_feedback (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact    text NOT NULL CHECK (length(contact) <= 300),
    problem    text NOT NULL CHECK (length(problem) BETWEEN 1 AND 5000),
    location   text NOT NULL DEFAULT '' CHECK (length(location) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Feedback notifications name no change or article.
ALTER TABLE notifications ADD COLUMN feedback_id bigint REFERENCES accessibility_feedback (id);

-- Single-use links sent by mail: an invitation (valid 7 days; the account
-- is made when it is accepted, with the roles it carries) or a password
-- reset (valid 1 hour). Only a SHA-256 of the secret is kept.
CREATE TABLE account_links (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('invite', 'reset')),
    token_hash bytea NOT NULL UNIQUE,
    email      text NOT NULL,
    user_id    bigint REFERENCES users (id),
    roles      jsonb NOT NULL DEFAULT '[]',
    created_by text NOT NULL,
    client_addr text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (kind = 'invite' OR user_id IS NOT NULL)
);
CREATE INDEX account_links_addr_idx ON account_links (client_addr, created_at);
CREATE INDEX account_links_email_idx ON account_links (lower(email), created_at);

-- An account signed in through OpenID Connect is known by its issuer and
-- subject, never by a name the provider may reuse.
ALTER TABLE users
    ADD COLUMN oidc_issuer text,
    ADD COLUMN oidc_subject text,
    ADD CONSTRAINT users_oidc_unique UNIQUE (oidc_issuer, oidc_subject);

-- The roles that group sync granted: only these are revoked when the group
-- is gone. A role granted by hand is never listed here.
CREATE TABLE oidc_grants (
    username text NOT NULL,
    role     text NOT NULL,
    city     text NOT NULL,
    PRIMARY KEY (username, role, city)
);

INSERT INTO legal_pages (slug, body) VALUES
('impressum', $md$## Impressum

*Diese Seite ist eine Vorlage. Eine Netzwerk-Administratorin oder ein Netzwerk-Administrator ersetzt die Angaben in eckigen Klammern unter „Seite bearbeiten".*

Angaben gemäß § 5 Digitale-Dienste-Gesetz (DDG) und § 18 Medienstaatsvertrag (MStV)

**Herausgeber**
[Name der Stelle, die das Netzwerk Smarte Hanse koordiniert]
[Straße Hausnummer]
[PLZ Ort]

**Vertreten durch**
[Name der vertretungsberechtigten Person, Funktion]

**Kontakt**
Telefon: [Telefonnummer]
E-Mail: [E-Mail-Adresse]

**Verantwortlich für den Inhalt nach § 18 Abs. 2 MStV**
[Name, Anschrift]

**Umsatzsteuer-Identifikationsnummer** (falls vorhanden)
[USt-IdNr.]

Die Beiträge der Städte verantworten die jeweiligen Städte; sie sind an jedem Artikel genannt.
$md$),
('datenschutz', $md$## Datenschutzerklärung

*Diese Seite ist eine Vorlage. Bitte mit der oder dem Datenschutzbeauftragten abstimmen und die Angaben in eckigen Klammern ersetzen.*

### Verantwortliche Stelle
[Name und Anschrift der verantwortlichen Stelle, siehe Impressum]

### Datenschutzbeauftragte oder Datenschutzbeauftragter
[Name, Anschrift, E-Mail-Adresse]

### Welche Daten wir verarbeiten
- **Lesen ohne Anmeldung:** Der Server verarbeitet die IP-Adresse und die angefragte Adresse, um die Seite auszuliefern. Es werden keine Cookies zur Reichweitenmessung und keine Dienste Dritter verwendet. [Aufbewahrungsdauer der Server-Protokolle eintragen]
- **Konto:** Benutzername, Name, E-Mail-Adresse und die Rollen in den Städten; das Passwort nur als Argon2id-Hash. Rechtsgrundlage: Art. 6 Abs. 1 lit. e DSGVO in Verbindung mit [Landesrecht].
- **Anmeldung:** ein Sitzungs-Cookie (technisch notwendig, endet nach 2 Stunden ohne Nutzung, spätestens nach 12 Stunden) und ein Geräte-Cookie, das fehlgeschlagene Anmeldungen anderer von Ihren unterscheidet.
- **Beiträge:** Artikel, Versionen, Prüfungen und Kommentare mit Ihrem Namen; Änderungen werden im Prüfprotokoll festgehalten.
- **Rückmeldungen zur Barrierefreiheit:** die Angaben aus dem Formular, bis die Rückmeldung bearbeitet ist. [Löschfrist eintragen]

### Ihre Rechte
Sie haben das Recht auf Auskunft, Berichtigung, Löschung, Einschränkung der Verarbeitung und Widerspruch (Art. 15–21 DSGVO) sowie auf Beschwerde bei der Aufsichtsbehörde: [Landesbeauftragte oder Landesbeauftragter für Datenschutz, Anschrift].
$md$),
('barrierefreiheit', $md$## Erklärung zur Barrierefreiheit

*Diese Seite ist eine Vorlage nach § 12b Behindertengleichstellungsgesetz (BGG) und der Barrierefreie-Informationstechnik-Verordnung (BITV 2.0). Bitte den Stand der Prüfung und die Angaben in eckigen Klammern eintragen.*

[Name der Stelle] ist bemüht, das Hansewiki im Einklang mit den Vorschriften zur Barrierefreiheit barrierefrei zugänglich zu machen.

### Stand der Vereinbarkeit mit den Anforderungen
Das Hansewiki ist mit den Anforderungen der BITV 2.0 (WCAG 2.1, Stufe AA) [vollständig / teilweise] vereinbar. Die Seiten werden bei jeder Änderung automatisch mit axe-core geprüft. [Datum und Methode der letzten Prüfung eintragen]

### Nicht barrierefreie Inhalte
[Bekannte Einschränkungen eintragen, zum Beispiel Dateianhänge in Artikeln der Städte, die nicht barrierefrei sind.]

### Feedback und Kontakt
Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen? Nutzen Sie das Formular unten auf dieser Seite oder schreiben Sie an [E-Mail-Adresse]. Wir antworten innerhalb von [Frist, z. B. sechs Wochen].

### Schlichtungsverfahren
Wenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort erhalten, können Sie einen Antrag auf ein Schlichtungsverfahren stellen: [Schlichtungsstelle des Landes oder Schlichtungsstelle nach § 16 BGG, Anschrift, Internetadresse].
$md$);
