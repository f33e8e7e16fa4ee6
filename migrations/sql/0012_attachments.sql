-- Attachments (issue 11): files and images that article texts refer to by
-- /files/{id}/{name}. Content lives in PostgreSQL, so every instance serves
-- every file; it is stored once per SHA-256, in chunks, so neither an upload
-- nor a download ever holds a whole file in memory.

-- blobs holds each distinct content once. sha256 is NULL while an upload is
-- being written (inside its transaction), and set when it is complete.
CREATE TABLE blobs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256     bytea UNIQUE CHECK (octet_length(sha256) = 32),
    size       bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blob_chunks (
    blob_id bigint NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq >= 0),
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
-- Images, PDFs and Office files are compressed already.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- An attachment is one upload: a name and a type for a blob. Its id is
-- random, so addresses cannot be enumerated.
CREATE TABLE attachments (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{16,64}$'),
    blob_id      bigint NOT NULL REFERENCES blobs (id),
    name         text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,119}$'),
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       bytea NOT NULL CHECK (octet_length(sha256) = 32),
    width        integer,
    height       integer,
    city         text NOT NULL REFERENCES cities (slug) ON UPDATE CASCADE,
    uploader_id  bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_uploader_idx ON attachments (uploader_id, created_at DESC);

-- Which revisions refer to which attachments, written with the revision:
-- who may read such a revision may read the file.
CREATE TABLE revision_attachments (
    revision_id   bigint NOT NULL REFERENCES revisions (id),
    attachment_id text NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (revision_id, attachment_id)
);
CREATE INDEX revision_attachments_attachment_idx ON revision_attachments (attachment_id);

-- Width-limited renditions of images, made once on first request.
CREATE TABLE blob_variants (
    blob_id         bigint NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    width           integer NOT NULL CHECK (width > 0),
    variant_blob_id bigint NOT NULL REFERENCES blobs (id),
    content_type    text NOT NULL,
    PRIMARY KEY (blob_id, width)
);

-- Templates for new articles; network admins edit them.
CREATE TABLE article_templates (
    slug       text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name_de    text NOT NULL CHECK (length(name_de) BETWEEN 1 AND 200),
    name_en    text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
    body       text NOT NULL CHECK (octet_length(body) <= 65536),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO article_templates (slug, name_de, name_en, body) VALUES
    ('erfahrungsbericht', 'Erfahrungsbericht', 'Experience report',
     E'## Ausgangslage\n\nWelches Problem hatte die Stadt? Wer war betroffen, was war vorher?\n\n'
     '## Vorgehen\n\nWas haben Sie getan, mit wem, in welchen Schritten?\n\n'
     '## Ergebnisse\n\nWas ist herausgekommen? Zahlen, Wirkung, Stand heute.\n\n'
     '## Was wir gelernt haben\n\nWas würden Sie wieder so machen, was anders?\n\n'
     '## Übertragbarkeit\n\nWas braucht eine andere Stadt, um das zu übernehmen?\n');
