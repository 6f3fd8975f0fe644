DROP TABLE audit_events;
DROP TABLE staff_invitations;
ALTER TABLE staff_users DROP COLUMN must_change_password;
