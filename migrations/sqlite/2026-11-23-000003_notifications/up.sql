-- Small named values the background jobs keep (checkpoints, the unsubscribe signing key).
CREATE TABLE job_state (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per digest period ("daily:2026-11-23", "weekly:2026-W48"): whoever inserts it
-- runs that digest, so the scheduler and `kyoso digest run` never both send it.
CREATE TABLE digest_runs (
    period_key  TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    recipients  INTEGER NOT NULL DEFAULT 0
);
