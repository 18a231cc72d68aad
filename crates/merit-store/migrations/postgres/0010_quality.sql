-- Quality scoring. A form's published versions are never edited (a change
-- is a new version); a form in use is retired, never deleted. An
-- evaluation is pinned to the form version it was scored on; its scores
-- are never edited either: a re-score or an accepted dispute is a new
-- version with its reason, and the earlier ones stay.
CREATE TABLE qa_forms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    retired_ms BIGINT
);

CREATE TABLE qa_form_versions (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form_id BIGINT NOT NULL REFERENCES qa_forms (id),
    version BIGINT NOT NULL,
    form_json TEXT NOT NULL,
    source_text TEXT NOT NULL,
    published_ms BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (form_id, version)
);

-- Calibration: several evaluators score the same contacts blind.
CREATE TABLE qa_calibration_sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    form_id BIGINT NOT NULL,
    form_version BIGINT NOT NULL,
    -- [[source_system, source_id], ...] and [username, ...]
    contacts_json TEXT NOT NULL,
    evaluators_json TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    FOREIGN KEY (form_id, form_version) REFERENCES qa_form_versions (form_id, version)
);

CREATE TABLE qa_evaluations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form_id BIGINT NOT NULL,
    form_version BIGINT NOT NULL,
    source_system TEXT NOT NULL,
    contact_source_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    -- human | automated | self | calibration
    kind TEXT NOT NULL,
    -- observation | recording | live | transcript | automated
    method TEXT NOT NULL,
    evaluator TEXT NOT NULL,
    contact_arrival_ms BIGINT NOT NULL,
    calibration_session_id BIGINT REFERENCES qa_calibration_sessions (id),
    -- An imported evaluation's id in its source, so importing twice adds nothing.
    source_id TEXT,
    created_ms BIGINT NOT NULL,
    FOREIGN KEY (form_id, form_version) REFERENCES qa_form_versions (form_id, version)
);
CREATE INDEX qa_evaluations_by_agent ON qa_evaluations (tenant_id, agent_id, contact_arrival_ms);
CREATE UNIQUE INDEX qa_evaluations_by_source ON qa_evaluations (tenant_id, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX qa_evaluations_by_contact ON qa_evaluations (tenant_id, source_system, contact_source_id);

CREATE TABLE qa_evaluation_versions (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    evaluation_id BIGINT NOT NULL REFERENCES qa_evaluations (id),
    version BIGINT NOT NULL,
    -- {question key: {"answer": text, "comment": text}}
    answers_json TEXT NOT NULL,
    comment TEXT,
    score DOUBLE PRECISION,
    auto_fail_by TEXT,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    -- why this version exists (a re-score, a dispute decided)
    reason TEXT,
    released_ms BIGINT,
    acknowledged_ms BIGINT,
    PRIMARY KEY (evaluation_id, version)
);

-- An agent's dispute of questions of one evaluation version, and its decision.
CREATE TABLE qa_disputes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    evaluation_id BIGINT NOT NULL REFERENCES qa_evaluations (id),
    evaluation_version BIGINT NOT NULL,
    agent_id TEXT NOT NULL,
    questions_json TEXT NOT NULL,
    comment TEXT NOT NULL,
    raised_ms BIGINT NOT NULL,
    raised_by TEXT NOT NULL,
    -- accepted | partly_accepted | rejected
    decision TEXT,
    decision_reason TEXT,
    decided_ms BIGINT,
    decided_by TEXT,
    new_version BIGINT
);
CREATE INDEX qa_disputes_by_agent ON qa_disputes (tenant_id, agent_id, raised_ms);

-- Sampling: how many evaluations each evaluator should make, or each agent
-- should get, per week or month; and each evaluator's queue of contacts
-- to evaluate (done when they have evaluated the contact).
CREATE TABLE qa_quotas (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    -- evaluator (a username) | agent (an agent id, or * for every agent)
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- week | month
    period TEXT NOT NULL,
    evaluations BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE qa_work_items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    evaluator TEXT NOT NULL,
    source_system TEXT NOT NULL,
    contact_source_id TEXT NOT NULL,
    -- random, or why the contact was included on purpose
    reason TEXT NOT NULL,
    stratum TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (tenant_id, evaluator, source_system, contact_source_id)
);
