-- A claim belongs to its claimer: `claim_token` is a random value new for every claim,
-- and the sender records an outcome only where the token is still its own. The claim
-- lasts until `lease_until`, which the sender renews before each message, so a slow
-- SMTP server can no longer let a second sender take (and send) a mail still in hand.
ALTER TABLE mail_outbox ADD COLUMN claim_token TEXT;
ALTER TABLE mail_outbox ADD COLUMN lease_until TIMESTAMP;
-- Permanent refusals (5xx for this message or recipient) counted apart from attempts:
-- an outage of hours adds attempts but must never turn a mail into `failed`.
ALTER TABLE mail_outbox ADD COLUMN rejections INTEGER NOT NULL DEFAULT 0;
-- Claims made before this change keep the five minutes they were given.
UPDATE mail_outbox SET lease_until = claimed_at + INTERVAL '5 minutes'
    WHERE status = 'sending' AND claimed_at IS NOT NULL;
