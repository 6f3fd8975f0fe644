DELETE FROM proposal_events WHERE kind IN ('assigned', 'returned', 'outcome_recorded');
ALTER TABLE proposal_events DROP CONSTRAINT proposal_events_kind_check;
ALTER TABLE proposal_events ADD CONSTRAINT proposal_events_kind_check CHECK (kind IN ('received', 'routed', 'rerouted', 'note', 'reply', 'state_changed', 'paused',
    'resumed', 'extended', 'message', 'attachment_added'));
