-- Foundation schema. Every table carries the tenant (centre); the large
-- tables key on tenant and time. Times are UTC milliseconds (BIGINT), dates
-- ISO text, money integer minor units with a currency. Keep in step with
-- ../postgres/0001_foundation.sql.

CREATE TABLE tenants (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL
);
INSERT INTO tenants (id, name, time_zone) VALUES (1, 'Default centre', 'Europe/Berlin');

CREATE TABLE sites (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE teams (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    site_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE TABLE agents (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    site_id TEXT NOT NULL,
    hire_date TEXT NOT NULL,
    employment_end_date TEXT,
    employment_end_reason TEXT CHECK (employment_end_reason IN ('voluntary', 'involuntary', 'internal_move')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE TABLE team_memberships (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    agent_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT,
    PRIMARY KEY (tenant_id, agent_id, from_date),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);

CREATE TABLE queues (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('voice_inbound', 'voice_outbound', 'chat', 'email', 'messaging')),
    site_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE TABLE users (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    login TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('agent', 'team_lead', 'qa_specialist', 'trainer', 'workforce_manager',
        'operations_manager', 'compensation_admin', 'client', 'administrator')),
    scope TEXT NOT NULL,
    agent_id TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, login)
);

CREATE TABLE import_batches (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    n_inserted BIGINT NOT NULL,
    n_updated BIGINT NOT NULL,
    n_unchanged BIGINT NOT NULL,
    n_rejected BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Append-only: the store offers no update or delete; triggers refuse them.
CREATE TABLE audit_log (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE contacts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    arrival_ms BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    is_current BOOLEAN NOT NULL,
    batch_id BIGINT NOT NULL,
    content_hash BIGINT NOT NULL,
    channel TEXT NOT NULL,
    queue_id TEXT,
    contact_type TEXT,
    customer_id TEXT,
    agent_id TEXT,
    menu_exit_ms BIGINT,
    queue_entry_ms BIGINT,
    queue_exit_ms BIGINT,
    answer_ms BIGINT,
    end_ms BIGINT NOT NULL,
    after_work_end_ms BIGINT,
    outcome TEXT NOT NULL,
    holds_json TEXT NOT NULL,
    hold_ms BIGINT NOT NULL,
    transfers_json TEXT NOT NULL,
    n_transfers BIGINT NOT NULL,
    wrap_up_code TEXT,
    recording_url TEXT,
    first_response_ms BIGINT,
    resolution_ms BIGINT,
    sale_amount_minor BIGINT,
    sale_currency TEXT,
    sale_cancelled_ms BIGINT,
    PRIMARY KEY (tenant_id, arrival_ms, source_system, source_id, revision)
);
CREATE UNIQUE INDEX contacts_identity ON contacts (tenant_id, source_id, source_system, revision);

CREATE TABLE agent_states (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    at_ms BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    is_current BOOLEAN NOT NULL,
    batch_id BIGINT NOT NULL,
    content_hash BIGINT NOT NULL,
    agent_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (tenant_id, at_ms, source_system, source_id, revision)
);
CREATE UNIQUE INDEX agent_states_identity ON agent_states (tenant_id, source_id, source_system, revision);

CREATE TABLE schedule_segments (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    start_ms BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    is_current BOOLEAN NOT NULL,
    batch_id BIGINT NOT NULL,
    content_hash BIGINT NOT NULL,
    agent_id TEXT NOT NULL,
    end_ms BIGINT NOT NULL,
    activity TEXT NOT NULL,
    PRIMARY KEY (tenant_id, start_ms, source_system, source_id, revision)
);
CREATE UNIQUE INDEX schedule_segments_identity ON schedule_segments (tenant_id, source_id, source_system, revision);

CREATE TABLE absences (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    start_ms BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    is_current BOOLEAN NOT NULL,
    batch_id BIGINT NOT NULL,
    content_hash BIGINT NOT NULL,
    agent_id TEXT NOT NULL,
    end_ms BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('planned', 'unplanned')),
    reason TEXT NOT NULL,
    PRIMARY KEY (tenant_id, start_ms, source_system, source_id, revision)
);
CREATE UNIQUE INDEX absences_identity ON absences (tenant_id, source_id, source_system, revision);

CREATE TABLE survey_responses (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    answered_ms BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    is_current BOOLEAN NOT NULL,
    batch_id BIGINT NOT NULL,
    content_hash BIGINT NOT NULL,
    contact_source_id TEXT,
    agent_id TEXT,
    asked_by TEXT NOT NULL CHECK (asked_by IN ('agent', 'supervisor', 'other_agent', 'automated')),
    PRIMARY KEY (tenant_id, answered_ms, source_system, source_id, revision)
);
CREATE UNIQUE INDEX survey_responses_identity ON survey_responses (tenant_id, source_id, source_system, revision);

CREATE TABLE survey_answers (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    answered_ms BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    question_id TEXT NOT NULL,
    scale TEXT NOT NULL CHECK (scale IN ('1-5', '0-10', 'yes_no', 'text')),
    value BIGINT,
    answer_text TEXT,
    PRIMARY KEY (tenant_id, answered_ms, source_system, source_id, revision, question_id)
);
