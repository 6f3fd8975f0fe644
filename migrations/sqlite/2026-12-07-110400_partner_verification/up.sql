-- Partners prove their contact address before kyoso mails it anything but the
-- verification link itself. Partners registered before this change were mailed under the
-- old rule already and keep their address as verified (from their registration time).
ALTER TABLE partners ADD COLUMN email_verified_at TEXT;
UPDATE partners SET email_verified_at = created_at;

-- A 法人番号 the partner stated but no deployment admin has confirmed. `corporate_number`
-- (UNIQUE) now holds confirmed numbers only, so any number of partners may claim one
-- without learning whether someone else holds it. Numbers stored before this change were
-- unique already and stay confirmed.
ALTER TABLE partners ADD COLUMN corporate_number_claim TEXT CHECK (corporate_number_claim IS NULL OR length(corporate_number_claim) = 13);

-- One-time links that verify a partner's contact address: only the sha256 of the token
-- is stored; a link works once, before it expires, and only for the address it was
-- sent to.
CREATE TABLE partner_email_verifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  BIGINT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX partner_email_verifications_partner ON partner_email_verifications (partner_id, created_at);
