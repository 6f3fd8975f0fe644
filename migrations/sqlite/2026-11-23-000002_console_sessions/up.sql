-- Login sessions of the staff console. The browser holds a random 32-byte token; only
-- its SHA-256 hash is stored. Each session has its own CSRF token for the forms.
CREATE TABLE console_sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    TEXT NOT NULL UNIQUE,
    staff_user_id BIGINT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX console_sessions_staff ON console_sessions (staff_user_id);
