ALTER TABLE mail_outbox DROP COLUMN rejections;
ALTER TABLE mail_outbox DROP COLUMN lease_until;
ALTER TABLE mail_outbox DROP COLUMN claim_token;
