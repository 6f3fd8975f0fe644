-- Signed links (one-click unsubscribe) carry the time they were issued. A recipient
-- can void every link issued before a moment: links older than `not_before_unix`
-- (seconds since the Unix epoch) are refused. One row per recipient that did so.
CREATE TABLE link_revocations (
    recipient_type  TEXT NOT NULL CHECK (recipient_type IN ('staff', 'partner')),
    recipient_id    BIGINT NOT NULL,
    not_before_unix BIGINT NOT NULL,
    PRIMARY KEY (recipient_type, recipient_id)
);

-- The records `kyoso demo` created: the demo refuses a database holding anything else,
-- and the published demo password signs in only the staff accounts listed here. Only
-- the demo loader writes this table; no API or console form can.
CREATE TABLE demo_records (
    record_type TEXT NOT NULL CHECK (record_type IN ('municipality', 'partner', 'staff')),
    record_id   BIGINT NOT NULL,
    PRIMARY KEY (record_type, record_id)
);
