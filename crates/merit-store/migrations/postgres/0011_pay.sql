-- Pay for performance. A plan's published versions are never edited (a
-- change is a new version, effective from a date). A pay run holds one
-- statement per agent; once the run is approved its statements are never
-- changed again: a correction is an adjustment paid in a later run.
CREATE TABLE pay_plans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE pay_plan_versions (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    plan_id BIGINT NOT NULL REFERENCES pay_plans (id),
    version BIGINT NOT NULL,
    -- The first local day it applies to (YYYY-MM-DD).
    effective_from TEXT NOT NULL,
    source_text TEXT NOT NULL,
    reason TEXT,
    published_ms BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    PRIMARY KEY (plan_id, version)
);

CREATE TABLE pay_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    plan_id BIGINT NOT NULL,
    plan_version BIGINT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    -- draft | reviewed | approved | exported
    state TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    approved_ms BIGINT,
    approved_by TEXT,
    exported_ms BIGINT,
    exported_by TEXT,
    FOREIGN KEY (plan_id, plan_version) REFERENCES pay_plan_versions (plan_id, version),
    UNIQUE (tenant_id, plan_id, period_from)
);

CREATE TABLE pay_statements (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    run_id BIGINT NOT NULL REFERENCES pay_runs (id),
    agent_id TEXT NOT NULL,
    team_id TEXT,
    total_minor BIGINT NOT NULL,
    body_json TEXT NOT NULL,
    reviewed_ms BIGINT,
    reviewed_by TEXT,
    PRIMARY KEY (run_id, agent_id)
);
CREATE INDEX pay_statements_by_agent ON pay_statements (tenant_id, agent_id);

-- A correction to pay: made by hand, decided on a dispute, or found as late
-- data. Paid in the next run of its plan (run_id set when that run is approved).
CREATE TABLE pay_adjustments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    plan_id BIGINT NOT NULL REFERENCES pay_plans (id),
    agent_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    reason_code TEXT NOT NULL,
    note TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    paid_in_run BIGINT REFERENCES pay_runs (id)
);

CREATE TABLE pay_disputes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    run_id BIGINT NOT NULL REFERENCES pay_runs (id),
    agent_id TEXT NOT NULL,
    comment TEXT NOT NULL,
    raised_ms BIGINT NOT NULL,
    raised_by TEXT NOT NULL,
    -- accepted | rejected
    decision TEXT,
    decision_reason TEXT,
    adjustment_id BIGINT REFERENCES pay_adjustments (id),
    decided_ms BIGINT,
    decided_by TEXT
);
