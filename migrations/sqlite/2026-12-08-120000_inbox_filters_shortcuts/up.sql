-- Saved inbox filters (保存した絞り込み): one staff member's named filter of the inbox,
-- kept as the inbox's query string; nobody else reads them. Gone with the account.
CREATE TABLE inbox_filters (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_user_id BIGINT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    query         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (staff_user_id, name)
);
-- The console's keyboard shortcuts (/, j, k, ?), on unless the user turns them off
-- (WCAG 2.1.4: single-key shortcuts can be switched off).
ALTER TABLE staff_users ADD COLUMN keyboard_shortcuts INTEGER NOT NULL DEFAULT 1
    CHECK (keyboard_shortcuts IN (0, 1));
