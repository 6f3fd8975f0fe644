DROP INDEX proposals_municipality_next_due;
ALTER TABLE proposals DROP COLUMN next_due_on;
DROP INDEX proposals_municipality_id;
