-- Targets per definition for the centre, a team or an agent, effective-dated,
-- with the amber limit and the direction. Never edited: a change is a new row.
CREATE TABLE kpi_targets (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    definition TEXT NOT NULL,
    scope TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    amber_limit DOUBLE PRECISION NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    recorded_ms BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, definition, scope, effective_from, recorded_ms)
);
CREATE FUNCTION kpi_targets_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'kpi_targets: a target is never edited or deleted; set a new one from a date'; END; $$;
CREATE TRIGGER kpi_targets_no_change BEFORE UPDATE OR DELETE ON kpi_targets
FOR EACH ROW EXECUTE FUNCTION kpi_targets_append_only();
