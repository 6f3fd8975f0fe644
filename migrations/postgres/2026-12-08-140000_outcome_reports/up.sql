-- Outcome reports (アウトカム) on adopted proposals: what was done, an optional 効果額 in
-- yen and the report date; each report's indicators (the effect in the proposal's own
-- terms) in their own table. Decimal values are stored as canonical decimal text
-- ("1200", "12.5"), checked by the domain, so both backends keep them exactly.
CREATE TABLE outcome_reports (
    id                   BIGSERIAL PRIMARY KEY,
    proposal_id          BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    done_text            TEXT NOT NULL CHECK (length(done_text) BETWEEN 1 AND 4000),
    effect_yen           BIGINT CHECK (effect_yen IS NULL OR effect_yen BETWEEN 0 AND 1000000000000),
    reported_on          DATE NOT NULL,
    reported_by_staff_id BIGINT REFERENCES staff_users (id) ON DELETE SET NULL,
    created_at           TIMESTAMP NOT NULL
);
CREATE INDEX outcome_reports_proposal ON outcome_reports (proposal_id, id);
CREATE INDEX outcome_reports_reported_on ON outcome_reports (reported_on);

CREATE TABLE outcome_indicators (
    id           BIGSERIAL PRIMARY KEY,
    report_id    BIGINT NOT NULL REFERENCES outcome_reports (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL CHECK (seq BETWEEN 0 AND 9),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    unit         TEXT NOT NULL CHECK (length(unit) <= 20),
    before_value TEXT CHECK (before_value IS NULL OR length(before_value) <= 32),
    after_value  TEXT CHECK (after_value IS NULL OR length(after_value) <= 32),
    UNIQUE (report_id, seq)
);
