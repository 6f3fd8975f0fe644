DROP INDEX mail_outbox_claim;
