-- The row problems of each import batch (the first 1,000; the batch holds
-- the count), and column mappings saved by name for `mapped` imports.
CREATE TABLE import_problems (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    batch_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    line BIGINT NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (tenant_id, batch_id, n)
);

CREATE TABLE import_mappings (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    toml TEXT NOT NULL,
    saved_ms BIGINT NOT NULL,
    saved_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
