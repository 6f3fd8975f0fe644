-- Files attached to a proposal. The metadata lives apart from the bytes so that lists
-- and counts never read the files; the bytes live in the database so that every node
-- of a deployment serves them. content_kind is what kyoso detected from the bytes,
-- never the name or the type the sender declared.
CREATE TABLE proposal_attachments (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id            BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    file_name              TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    content_kind           TEXT NOT NULL CHECK (content_kind IN ('pdf', 'docx', 'xlsx',
        'pptx', 'doc', 'xls', 'ppt', 'png', 'jpeg')),
    size_bytes             BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256                 TEXT NOT NULL CHECK (length(sha256) = 64),
    uploaded_by_staff_id   BIGINT REFERENCES staff_users (id) ON DELETE SET NULL,
    uploaded_by_partner_id BIGINT REFERENCES partners (id) ON DELETE SET NULL,
    created_at             TEXT NOT NULL
);
CREATE INDEX proposal_attachments_proposal ON proposal_attachments (proposal_id, id);

CREATE TABLE proposal_attachment_blobs (
    attachment_id BIGINT PRIMARY KEY REFERENCES proposal_attachments (id) ON DELETE CASCADE,
    bytes         BLOB NOT NULL
);

-- The desk's reply templates (定型文), per municipality.
CREATE TABLE reply_templates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    body            TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (municipality_id, name)
);

-- The proposer's consent to publish their name and the proposal's title in the open
-- outcome register; asked at intake, absent (NULL) means no.
ALTER TABLE proposals ADD COLUMN consented_publication_at TEXT;

-- A new kind of history event: a file was attached. SQLite cannot change a CHECK in
-- place, so the table is rebuilt (nothing references it).
CREATE TABLE proposal_events_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id      BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('received', 'routed', 'rerouted', 'note',
        'reply', 'state_changed', 'paused', 'resumed', 'extended', 'message',
        'attachment_added')),
    actor_staff_id   BIGINT REFERENCES staff_users (id) ON DELETE SET NULL,
    actor_partner_id BIGINT REFERENCES partners (id) ON DELETE SET NULL,
    from_state       TEXT,
    to_state         TEXT,
    department_id    BIGINT REFERENCES departments (id) ON DELETE SET NULL,
    body             TEXT CHECK (body IS NULL OR length(body) <= 20000),
    internal         INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    created_at       TEXT NOT NULL
);
INSERT INTO proposal_events_new SELECT id, proposal_id, kind, actor_staff_id,
    actor_partner_id, from_state, to_state, department_id, body, internal, created_at
    FROM proposal_events;
DROP TABLE proposal_events;
ALTER TABLE proposal_events_new RENAME TO proposal_events;
CREATE INDEX proposal_events_proposal ON proposal_events (proposal_id, id);
