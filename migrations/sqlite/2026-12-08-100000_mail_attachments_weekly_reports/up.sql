-- One optional file attached to a mail (the weekly report's CSV): kept on the outbox
-- row, so the mail and its attachment are written and sent as one.
ALTER TABLE mail_outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_type TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_bytes BLOB;

-- One row per municipality and reported week (its Monday, Japan time). Whoever inserts
-- it, in the transaction that queues the week's mails, sends that week's report: two
-- nodes never both send it, and a crash before the commit leaves the week to catch up.
-- The figures are kept as JSON: the next week compares with them.
CREATE TABLE weekly_report_runs (
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    week_start      TEXT NOT NULL,
    figures         TEXT NOT NULL,
    recipients      INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (municipality_id, week_start)
);
