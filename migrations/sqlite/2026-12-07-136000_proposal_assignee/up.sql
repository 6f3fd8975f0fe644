-- 担当者: the staff member who owns a proposal day to day (desk staff of its
-- municipality or staff of its lead department). Cleared when that account goes.
ALTER TABLE proposals ADD COLUMN assignee_id BIGINT REFERENCES staff_users (id) ON DELETE SET NULL;
-- 「自分の担当」 lists one person's proposals within the municipality.
CREATE INDEX proposals_municipality_assignee ON proposals (municipality_id, assignee_id);
