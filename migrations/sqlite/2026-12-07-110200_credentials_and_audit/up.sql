-- Credentials of staff accounts and the audit log.
-- must_change_password: set when an administrator resets another user's password; the
-- console then shows only the "choose a new password" page until the user has done so.
ALTER TABLE staff_users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- One-time invitation links for new staff users: only the SHA-256 hash of the random
-- token is stored; a link works once (used_at) and until expires_at.
CREATE TABLE staff_invitations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_user_id BIGINT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);
CREATE INDEX staff_invitations_staff ON staff_invitations (staff_user_id);

-- Who did what, when and from where: sign-ins and administrative actions. No foreign
-- keys: the log outlives the records it names. detail is a short JSON object, never a
-- secret.
CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor_type      TEXT NOT NULL CHECK (actor_type IN ('staff', 'partner', 'operator', 'anonymous')),
    actor_id        BIGINT,
    actor_label     TEXT NOT NULL,
    municipality_id BIGINT,
    source          TEXT NOT NULL,
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       BIGINT,
    target_label    TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_events_municipality ON audit_events (municipality_id, id);
CREATE INDEX audit_events_at ON audit_events (at);
