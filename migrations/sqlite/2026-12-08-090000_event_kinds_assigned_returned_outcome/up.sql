-- Three new kinds of history event: a 担当者 was set or changed (until now written as a
-- note), a department handed a proposal back to the desk as not theirs (所管外), and an
-- outcome was recorded on an adopted proposal. SQLite cannot change a CHECK in place, so
-- the table is rebuilt (nothing references it).
CREATE TABLE proposal_events_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id      BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('received', 'routed', 'rerouted', 'note',
        'reply', 'state_changed', 'paused', 'resumed', 'extended', 'message',
        'attachment_added', 'assigned',
        'returned', 'outcome_recorded')),
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
