-- The days an import marked stale, found without reading every cached day:
-- the mark is the last column, after the aggregates, so finding it by a
-- scan walks each day's aggregates.
CREATE INDEX kpi_cache_stale ON kpi_cache (tenant_id, stale_batch) WHERE stale_batch IS NOT NULL;
