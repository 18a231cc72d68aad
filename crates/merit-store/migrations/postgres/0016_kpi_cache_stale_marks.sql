-- The marks of stale cached days move to a table of their own: setting or
-- clearing a mark in kpi_cache rewrote the whole row, aggregates and all,
-- so an update that changed a few of a hundred marked days wrote all of
-- them again. A mark goes with its day (ON DELETE CASCADE). Days marked
-- when this runs are deleted: the next report recomputes them.
DELETE FROM kpi_cache WHERE stale_batch IS NOT NULL;
DROP INDEX kpi_cache_stale;
ALTER TABLE kpi_cache DROP COLUMN stale_batch;
CREATE TABLE kpi_cache_stale (
    tenant_id BIGINT NOT NULL,
    definition TEXT NOT NULL,
    version BIGINT NOT NULL,
    projection TEXT NOT NULL,
    day TEXT NOT NULL,
    batch BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, definition, version, projection, day),
    FOREIGN KEY (tenant_id, definition, version, projection, day)
        REFERENCES kpi_cache (tenant_id, definition, version, projection, day) ON DELETE CASCADE
);
CREATE INDEX kpi_cache_stale_by_batch ON kpi_cache_stale (tenant_id, batch);
