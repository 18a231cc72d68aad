-- A cached day an import of added contacts can change is marked with the
-- import's batch instead of being deleted; reports leave it out until the
-- service has brought it up to date (taking out what the touched contacts
-- gave before and putting in what they give now) and cleared the mark.
ALTER TABLE kpi_cache ADD COLUMN stale_batch BIGINT;
