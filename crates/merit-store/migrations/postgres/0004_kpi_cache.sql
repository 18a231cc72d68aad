-- Report cache: per definition version, local day and projection (the
-- attributes kept: agent, queue, interval...), the day's aggregates
-- (merit-domain::metrics::cache). Derived data: an import deletes the days
-- it can change, in its own transaction; a report recomputes missing days.
CREATE TABLE kpi_cache (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    definition TEXT NOT NULL,
    version BIGINT NOT NULL,
    day TEXT NOT NULL,
    projection TEXT NOT NULL,
    computed_ms BIGINT NOT NULL,
    aggregates BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, definition, version, projection, day)
);
CREATE INDEX kpi_cache_by_day ON kpi_cache (tenant_id, day);
