DROP INDEX proposals_municipality_assignee;
ALTER TABLE proposals DROP COLUMN assignee_id;
