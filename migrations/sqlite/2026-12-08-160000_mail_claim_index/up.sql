-- The mail sender's claim takes the oldest due immediate mails, ten at a time. With a
-- backlog (200,000 pending notices after a bulk load) no index gave that order: the
-- database read every pending row and sorted them for each batch (0.45 s per claim on
-- SQLite, a fifth of a node's CPU while the backlog lasted). This index holds only the
-- rows a claim can take, in id order, so a claim reads about one batch of entries.
CREATE INDEX mail_outbox_claim ON mail_outbox (id)
    WHERE delivery = 'immediate' AND status IN ('pending', 'sending');
