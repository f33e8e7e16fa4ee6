-- Core schema: cities, topics, articles with immutable revisions, wiki links,
-- the append-only audit log and the search outbox.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE cities (
    slug               text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 1 AND 10),
    created_at         timestamptz NOT NULL DEFAULT now()
);

INSERT INTO cities (slug, name) VALUES
    ('luebeck',        'Hansestadt Lübeck'),
    ('neubrandenburg', 'Vier-Tore-Stadt Neubrandenburg'),
    ('rostock',        'Hanse- und Universitätsstadt Rostock'),
    ('schwerin',       'Landeshauptstadt Schwerin'),
    ('stralsund',      'Hansestadt Stralsund'),
    ('wismar',         'Hansestadt Wismar');

CREATE TABLE topics (
    slug       text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name_de    text NOT NULL,
    name_en    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO topics (slug, name_de, name_en) VALUES
    ('klimaresilienz',    'Klimaresilienz',                'Climate resilience'),
    ('mobilitaet',        'Mobilität',                     'Mobility'),
    ('e-akte',            'E-Akte und digitale Verwaltung', 'E-files and digital administration'),
    ('energie',           'Energie',                       'Energy'),
    ('buergerbeteiligung','Bürgerbeteiligung',             'Citizen participation'),
    ('stadtdaten',        'Stadtdaten und Open Data',      'City data and open data'),
    ('wasser-umwelt',     'Wasser und Umwelt',             'Water and environment'),
    ('soziale-stadt',     'Soziale Stadt',                 'Social city'),
    ('gebaeude',          'Gebäude',                       'Buildings'),
    ('wirtschaft',        'Wirtschaft',                    'Economy');

-- Accounts are completed by the accounts migration; revisions and audit events
-- need an author from the start, and imports are made by the system account.
CREATE TABLE users (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    display_name text NOT NULL DEFAULT '',
    email        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO users (username, display_name) VALUES ('hansewiki', 'Hansewiki (System)');

CREATE TABLE articles (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    city                  text NOT NULL REFERENCES cities (slug) ON UPDATE CASCADE,
    slug                  text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,119}$'),
    published_revision_id bigint,
    archived              boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    published_at          timestamptz,
    UNIQUE (city, slug)
);

CREATE TABLE revisions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id       bigint NOT NULL REFERENCES articles (id),
    base_revision_id bigint REFERENCES revisions (id),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body             text NOT NULL CHECK (octet_length(body) <= 1048576),
    summary          text NOT NULL DEFAULT '',
    visibility       text NOT NULL CHECK (visibility IN ('public', 'network', 'city')),
    topics           text[] NOT NULL DEFAULT '{}',
    tags             text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT '' CHECK (status IN ('', 'idee', 'planung', 'umsetzung', 'abgeschlossen')),
    start_year       integer CHECK (start_year BETWEEN 1900 AND 2200),
    cost             text NOT NULL DEFAULT '',
    funding          text NOT NULL DEFAULT '',
    partners         text NOT NULL DEFAULT '',
    contact          text NOT NULL DEFAULT '',
    author_id        bigint NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Rendered once when the revision is written, so a page view never runs
    -- the Markdown pipeline. Refreshed (not changed in meaning) when a link
    -- target appears or disappears.
    html             text NOT NULL,
    toc              jsonb NOT NULL DEFAULT '[]',
    -- Wiki link targets ("city/slug") found when rendering.
    links            text[] NOT NULL DEFAULT '{}',
    -- Set when the revision becomes the article's published one.
    published_at     timestamptz
);

CREATE INDEX revisions_article_idx ON revisions (article_id, id DESC);

ALTER TABLE articles
    ADD CONSTRAINT articles_published_revision_fk
    FOREIGN KEY (published_revision_id) REFERENCES revisions (id);

CREATE INDEX articles_published_idx ON articles (published_at DESC) WHERE published_revision_id IS NOT NULL;

-- Outgoing wiki links of each article's published revision ("what links here").
CREATE TABLE article_links (
    from_article_id bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    to_city         text NOT NULL,
    to_slug         text NOT NULL,
    PRIMARY KEY (from_article_id, to_city, to_slug)
);

CREATE INDEX article_links_target_idx ON article_links (to_city, to_slug);

CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    object      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    client_addr text NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_object_idx ON audit_events (object, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, id);

CREATE RULE audit_events_no_update AS ON UPDATE TO audit_events DO INSTEAD NOTHING;
CREATE RULE audit_events_no_delete AS ON DELETE TO audit_events DO INSTEAD NOTHING;

-- Written in the publishing transaction; drained by the search indexer.
CREATE TABLE search_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id      bigint NOT NULL REFERENCES articles (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT ''
);

CREATE INDEX search_outbox_due_idx ON search_outbox (next_attempt_at, id);

-- Revisions are immutable; only the derived rendering may be refreshed.
CREATE FUNCTION revisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.article_id, NEW.base_revision_id, NEW.title, NEW.body, NEW.summary, NEW.visibility,
        NEW.topics, NEW.tags, NEW.status, NEW.start_year, NEW.cost, NEW.funding, NEW.partners,
        NEW.contact, NEW.author_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.article_id, OLD.base_revision_id, OLD.title, OLD.body, OLD.summary, OLD.visibility,
        OLD.topics, OLD.tags, OLD.status, OLD.start_year, OLD.cost, OLD.funding, OLD.partners,
        OLD.contact, OLD.author_id, OLD.created_at) THEN
        RAISE EXCEPTION 'revisions are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER revisions_immutable BEFORE UPDATE ON revisions
    FOR EACH ROW EXECUTE FUNCTION revisions_immutable();
CREATE RULE revisions_no_delete AS ON DELETE TO revisions DO INSTEAD NOTHING;
