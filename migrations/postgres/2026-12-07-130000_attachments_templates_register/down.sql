DELETE FROM proposal_events WHERE kind = 'attachment_added';
ALTER TABLE proposal_events DROP CONSTRAINT proposal_events_kind_check;
ALTER TABLE proposal_events ADD CONSTRAINT proposal_events_kind_check CHECK (kind IN (
    'received', 'routed', 'rerouted', 'note', 'reply', 'state_changed', 'paused',
    'resumed', 'extended', 'message'));
ALTER TABLE proposals DROP COLUMN consented_publication_at;
DROP TABLE reply_templates;
DROP TABLE proposal_attachment_blobs;
DROP TABLE proposal_attachments;
