DROP INDEX proposals_duplicate_of;
ALTER TABLE proposals DROP COLUMN duplicate_of_id;
