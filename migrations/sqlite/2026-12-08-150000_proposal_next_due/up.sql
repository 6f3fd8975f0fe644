-- The desk's inbox (`/proposals`, newest first) and deadlines at 200,000 proposals.
--
-- The API's list asks `municipality_id = ? ORDER BY id DESC LIMIT ?`. No index gave
-- that order: SQLite read every proposal of the municipality (4,000 of 200,000 rows,
-- pages spread over the whole file) and sorted them to keep 51 (about 25 ms of CPU per
-- request, all requests queueing for two cores); PostgreSQL walked the primary key
-- backwards past the other municipalities' rows (2,600 rows for 51).
CREATE INDEX proposals_municipality_id ON proposals (municipality_id, id);

-- When the first running clock of a proposal is due (the department's answer while
-- routed and unanswered, the first answer while unanswered, the decision), or NULL when
-- no clock runs (paused, closed, none set): the SQL twin of
-- `domain::desk::deadlines::running_clocks`, kept by the database itself so that no
-- writer can leave it stale. "Overdue before D" is then `next_due_on < D`, which an
-- index answers, where the three-way OR it replaces read every open proposal.
-- Dates are ISO text on SQLite, so the earliest is the smallest string; min() of
-- several arguments is NULL if any is, hence the sentinel '~', which sorts after every
-- date string (also years past 9999, which chrono writes with a leading '+').
ALTER TABLE proposals ADD COLUMN next_due_on TEXT GENERATED ALWAYS AS (
    CASE WHEN paused_at IS NULL AND state IN ('received', 'routed', 'in_dialogue') THEN
        nullif(min(
            coalesce(CASE WHEN state = 'routed' AND first_response_at IS NULL
                          THEN department_due_on END, '~'),
            coalesce(CASE WHEN first_response_at IS NULL THEN proposer_due_on END,
                     '~'),
            coalesce(decision_due_on, '~')), '~')
    END) VIRTUAL;
CREATE INDEX proposals_municipality_next_due ON proposals (municipality_id, next_due_on, id);
