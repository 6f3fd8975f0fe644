DROP TABLE weekly_report_runs;
ALTER TABLE mail_outbox DROP COLUMN attachment_bytes;
ALTER TABLE mail_outbox DROP COLUMN attachment_type;
ALTER TABLE mail_outbox DROP COLUMN attachment_name;
