DELETE FROM proposal_events WHERE kind IN ('assigned', 'returned', 'outcome_recorded');
CREATE TABLE proposal_events_old (
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
INSERT INTO proposal_events_old SELECT id, proposal_id, kind, actor_staff_id,
    actor_partner_id, from_state, to_state, department_id, body, internal, created_at
    FROM proposal_events;
DROP TABLE proposal_events;
ALTER TABLE proposal_events_old RENAME TO proposal_events;
CREATE INDEX proposal_events_proposal ON proposal_events (proposal_id, id);
