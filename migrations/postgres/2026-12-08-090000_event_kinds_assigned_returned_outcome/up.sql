-- Three new kinds of history event: a 担当者 was set or changed (until now written as a
-- note), a department handed a proposal back to the desk as not theirs (所管外), and an
-- outcome was recorded on an adopted proposal.
ALTER TABLE proposal_events DROP CONSTRAINT proposal_events_kind_check;
ALTER TABLE proposal_events ADD CONSTRAINT proposal_events_kind_check CHECK (kind IN ('received', 'routed', 'rerouted', 'note', 'reply', 'state_changed', 'paused',
    'resumed', 'extended', 'message', 'attachment_added', 'assigned',
    'returned', 'outcome_recorded'));
