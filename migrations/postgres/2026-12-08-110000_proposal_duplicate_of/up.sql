-- 重複: a proposal closed as a duplicate points at the original it repeats (same
-- municipality, never itself; the domain refuses cycles). The original's page lists
-- the proposals that point at it.
ALTER TABLE proposals ADD COLUMN duplicate_of_id BIGINT REFERENCES proposals (id) ON DELETE SET NULL;
CREATE INDEX proposals_duplicate_of ON proposals (duplicate_of_id);
