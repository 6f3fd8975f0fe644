DROP TABLE partner_email_verifications;
ALTER TABLE partners DROP COLUMN corporate_number_claim;
ALTER TABLE partners DROP COLUMN email_verified_at;
