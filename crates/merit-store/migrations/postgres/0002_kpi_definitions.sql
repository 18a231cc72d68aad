-- Versioned, effective-dated KPI definitions. A version is never edited or
-- deleted: a change is a new version from a date.
CREATE TABLE kpi_definitions (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    kpi TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    options_json TEXT NOT NULL,
    recorded_ms BIGINT NOT NULL,
    recorded_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (tenant_id, name, version)
);
CREATE FUNCTION kpi_definitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'kpi_definitions: a version is never edited or deleted; add a new one'; END; $$;
CREATE TRIGGER kpi_definitions_no_change BEFORE UPDATE OR DELETE ON kpi_definitions
FOR EACH ROW EXECUTE FUNCTION kpi_definitions_append_only();
