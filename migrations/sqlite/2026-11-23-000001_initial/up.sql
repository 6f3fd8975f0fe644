-- kyoso's initial data model (SQLite). The PostgreSQL folder of the same name holds the
-- same tables; keep the two in step. Timestamps are TEXT in UTC as diesel writes them
-- (YYYY-MM-DD HH:MM:SS.ffffff); dates are local calendar dates as YYYY-MM-DD text.

CREATE TABLE municipalities (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    code                TEXT NOT NULL UNIQUE CHECK (length(code) = 6),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefecture          TEXT NOT NULL CHECK (length(prefecture) BETWEEN 1 AND 10),
    first_response_days INTEGER NOT NULL DEFAULT 10 CHECK (first_response_days BETWEEN 1 AND 365),
    decision_days       INTEGER NOT NULL DEFAULT 40 CHECK (decision_days BETWEEN 1 AND 730),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE zones (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    UNIQUE (municipality_id, name)
);

CREATE TABLE departments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    email           TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    is_desk         INTEGER NOT NULL DEFAULT 0 CHECK (is_desk IN (0, 1)),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (municipality_id, name),
    UNIQUE (municipality_id, id)
);

CREATE TABLE department_policy_fields (
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    policy_field  TEXT NOT NULL CHECK (policy_field IN ('safety', 'childcare_education',
        'health_welfare', 'environment_energy', 'infrastructure_mobility', 'economy_industry',
        'culture_sports_tourism', 'governance_dx')),
    PRIMARY KEY (department_id, policy_field)
);

CREATE TABLE staff_users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id BIGINT REFERENCES municipalities (id) ON DELETE CASCADE,
    department_id   BIGINT REFERENCES departments (id) ON DELETE SET NULL,
    role            TEXT NOT NULL CHECK (role IN ('department', 'desk', 'admin')),
    email           TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    display_name    TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash   TEXT,
    locale          TEXT NOT NULL DEFAULT 'ja' CHECK (locale IN ('ja', 'en')),
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- only a deployment admin spans all municipalities; department staff belong to one department
    CHECK (municipality_id IS NOT NULL OR role = 'admin'),
    CHECK (role <> 'department' OR department_id IS NOT NULL)
);

CREATE TABLE partners (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('company', 'university', 'npo', 'other')),
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    corporate_number TEXT UNIQUE CHECK (corporate_number IS NULL OR length(corporate_number) = 13),
    contact_name     TEXT NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 100),
    contact_email    TEXT NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 254),
    phone            TEXT CHECK (phone IS NULL OR length(phone) <= 30),
    website          TEXT CHECK (website IS NULL OR length(website) <= 500),
    description      TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    locale           TEXT NOT NULL DEFAULT 'ja' CHECK (locale IN ('ja', 'en')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- 'nationwide', a prefecture code or a municipality code (6 digits with check digit)
CREATE TABLE partner_regions (
    partner_id  BIGINT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL CHECK (region_code = 'nationwide' OR length(region_code) = 6),
    PRIMARY KEY (partner_id, region_code)
);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id    BIGINT REFERENCES partners (id) ON DELETE CASCADE,
    staff_user_id BIGINT REFERENCES staff_users (id) ON DELETE CASCADE,
    label         TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    prefix        TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT,
    CHECK ((partner_id IS NULL) <> (staff_user_id IS NULL))
);

CREATE TABLE needs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    department_id   BIGINT NOT NULL,
    zone_id         BIGINT REFERENCES zones (id) ON DELETE SET NULL,
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body            TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    policy_field    TEXT NOT NULL CHECK (policy_field IN ('safety', 'childcare_education',
        'health_welfare', 'environment_energy', 'infrastructure_mobility', 'economy_industry',
        'culture_sports_tourism', 'governance_dx')),
    visibility      TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    open_until      TEXT,
    created_by      BIGINT REFERENCES staff_users (id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    published_at    TEXT,
    closed_at       TEXT,
    -- a need belongs to a department of its own municipality
    FOREIGN KEY (municipality_id, department_id) REFERENCES departments (municipality_id, id)
);
CREATE INDEX needs_municipality_status ON needs (municipality_id, status);

CREATE TABLE need_partner_kinds (
    need_id      BIGINT NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    partner_kind TEXT NOT NULL CHECK (partner_kind IN ('company', 'university', 'npo', 'other')),
    PRIMARY KEY (need_id, partner_kind)
);

CREATE TABLE offers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  BIGINT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('technology', 'expertise', 'research',
        'funding', 'facility', 'volunteer', 'other')),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    archived_at TEXT
);
CREATE INDEX offers_partner ON offers (partner_id);

CREATE TABLE offer_policy_fields (
    offer_id     BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    policy_field TEXT NOT NULL CHECK (policy_field IN ('safety', 'childcare_education',
        'health_welfare', 'environment_energy', 'infrastructure_mobility', 'economy_industry',
        'culture_sports_tourism', 'governance_dx')),
    PRIMARY KEY (offer_id, policy_field)
);

CREATE TABLE offer_regions (
    offer_id    BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL CHECK (region_code = 'nationwide' OR length(region_code) = 6),
    PRIMARY KEY (offer_id, region_code)
);

-- Per municipality and year, the last receipt number handed out. Incremented inside the
-- proposal's own transaction, so numbers have no gaps and no duplicates.
CREATE TABLE receipt_counters (
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    year            INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2999),
    last_seq        INTEGER NOT NULL CHECK (last_seq >= 0),
    PRIMARY KEY (municipality_id, year)
);

CREATE TABLE proposals (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id       BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    receipt_year          INTEGER NOT NULL,
    receipt_seq           INTEGER NOT NULL CHECK (receipt_seq >= 1),
    channel               TEXT NOT NULL CHECK (channel IN ('api', 'phone', 'visit', 'email', 'event')),
    partner_id            BIGINT REFERENCES partners (id) ON DELETE SET NULL,
    submitter_name        TEXT NOT NULL CHECK (length(submitter_name) BETWEEN 1 AND 100),
    submitter_org         TEXT CHECK (submitter_org IS NULL OR length(submitter_org) <= 200),
    submitter_email       TEXT CHECK (submitter_email IS NULL OR length(submitter_email) <= 254),
    submitter_phone       TEXT CHECK (submitter_phone IS NULL OR length(submitter_phone) <= 30),
    need_id               BIGINT REFERENCES needs (id) ON DELETE SET NULL,
    offer_id              BIGINT REFERENCES offers (id) ON DELETE SET NULL,
    title                 TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body                  TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    policy_field          TEXT CHECK (policy_field IS NULL OR policy_field IN ('safety',
        'childcare_education', 'health_welfare', 'environment_energy',
        'infrastructure_mobility', 'economy_industry', 'culture_sports_tourism', 'governance_dx')),
    state                 TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'routed',
        'in_dialogue', 'adopted', 'declined', 'withdrawn')),
    primary_department_id BIGINT REFERENCES departments (id) ON DELETE SET NULL,
    decline_reason_code   TEXT CHECK (decline_reason_code IS NULL OR decline_reason_code IN
        ('out_of_scope', 'promotion_only', 'duplicate', 'not_feasible_now', 'no_budget', 'other')),
    decline_reason_text   TEXT,
    declared_no_antisocial_at TEXT,
    consented_contact_at  TEXT,
    department_due_on     TEXT,
    proposer_due_on       TEXT,
    decision_due_on       TEXT,
    paused_at             TEXT,
    received_at           TEXT NOT NULL,
    routed_at             TEXT,
    first_response_at     TEXT,
    decided_at            TEXT,
    updated_at            TEXT NOT NULL,
    UNIQUE (municipality_id, receipt_year, receipt_seq),
    CHECK (state <> 'declined' OR decline_reason_code IS NOT NULL)
);
CREATE INDEX proposals_municipality_state ON proposals (municipality_id, state);
CREATE INDEX proposals_partner ON proposals (partner_id);

-- Idempotency-Key of API submissions: a retried request returns the same proposal;
-- the same key with another body is refused.
CREATE TABLE idempotency_keys (
    partner_id   BIGINT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    key          TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash TEXT NOT NULL,
    proposal_id  BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (partner_id, key)
);

CREATE TABLE proposal_departments (
    proposal_id   BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    department_id BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    is_primary    INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    PRIMARY KEY (proposal_id, department_id)
);

CREATE TABLE proposal_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id      BIGINT NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('received', 'routed', 'rerouted', 'note',
        'reply', 'state_changed', 'paused', 'resumed', 'extended', 'message')),
    actor_staff_id   BIGINT REFERENCES staff_users (id) ON DELETE SET NULL,
    actor_partner_id BIGINT REFERENCES partners (id) ON DELETE SET NULL,
    from_state       TEXT,
    to_state         TEXT,
    department_id    BIGINT REFERENCES departments (id) ON DELETE SET NULL,
    body             TEXT CHECK (body IS NULL OR length(body) <= 20000),
    internal         INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    created_at       TEXT NOT NULL
);
CREATE INDEX proposal_events_proposal ON proposal_events (proposal_id, id);

-- The desk's routing rules: a policy field or a keyword points to a department.
CREATE TABLE routing_rules (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    municipality_id BIGINT NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
    department_id   BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    policy_field    TEXT CHECK (policy_field IS NULL OR policy_field IN ('safety',
        'childcare_education', 'health_welfare', 'environment_energy',
        'infrastructure_mobility', 'economy_industry', 'culture_sports_tourism', 'governance_dx')),
    keyword         TEXT CHECK (keyword IS NULL OR length(keyword) BETWEEN 1 AND 100),
    created_at      TEXT NOT NULL,
    CHECK (policy_field IS NOT NULL OR keyword IS NOT NULL)
);

-- Staff feedback on a suggested need/offer pair.
CREATE TABLE match_feedback (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    need_id       BIGINT NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    offer_id      BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    staff_user_id BIGINT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    verdict       TEXT NOT NULL CHECK (verdict IN ('good', 'not_relevant')),
    created_at    TEXT NOT NULL,
    UNIQUE (need_id, offer_id, staff_user_id)
);

-- A need/offer pair is alerted at most once.
CREATE TABLE match_alerts (
    need_id    BIGINT NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    offer_id   BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (need_id, offer_id)
);

-- Notification preference per recipient and kind of mail.
CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_user_id BIGINT REFERENCES staff_users (id) ON DELETE CASCADE,
    partner_id    BIGINT REFERENCES partners (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 50),
    delivery      TEXT NOT NULL CHECK (delivery IN ('immediate', 'daily', 'weekly', 'off')),
    updated_at    TEXT NOT NULL,
    CHECK ((partner_id IS NULL) <> (staff_user_id IS NULL)),
    UNIQUE (staff_user_id, kind),
    UNIQUE (partner_id, kind)
);

CREATE TABLE saved_searches (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_user_id   BIGINT REFERENCES staff_users (id) ON DELETE CASCADE,
    partner_id      BIGINT REFERENCES partners (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    query           TEXT NOT NULL CHECK (length(query) <= 200),
    filters_json    TEXT NOT NULL DEFAULT '{}',
    last_checked_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK ((partner_id IS NULL) <> (staff_user_id IS NULL))
);

-- One row per e-mail, written in the same transaction as its cause.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key      TEXT NOT NULL UNIQUE,
    message_id      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    -- who receives it: a staff user, a partner, or a guest known only by address
    recipient_type  TEXT NOT NULL DEFAULT 'guest' CHECK (recipient_type IN ('staff', 'partner', 'guest')),
    recipient_id    BIGINT,
    recipient_email TEXT NOT NULL,

    recipient_name  TEXT,
    locale          TEXT NOT NULL DEFAULT 'ja' CHECK (locale IN ('ja', 'en')),
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT,
    delivery        TEXT NOT NULL DEFAULT 'immediate' CHECK (delivery IN ('immediate', 'daily', 'weekly')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'digested')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    claimed_at      TEXT,
    sent_at         TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_digest ON mail_outbox (delivery, status, recipient_email);


-- One row per change of searchable text; the index follower applies them in id order.
CREATE TABLE index_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_type   TEXT NOT NULL CHECK (doc_type IN ('need', 'offer', 'proposal')),
    doc_id     BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
