-- Packed days (merit-domain::metrics::packed): the current contacts, and
-- the current numeric survey answers, of each UTC day (days since
-- 1970-01-01 of the arrival, or of the answer) as one compact record: what
-- reports read instead of a row per contact. Written by the import that
-- changes the day, in its own transaction; never edited otherwise.
CREATE TABLE contact_days (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    day BIGINT NOT NULL,
    n_rows BIGINT NOT NULL,
    packed BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, day)
);
CREATE TABLE survey_answer_days (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    day BIGINT NOT NULL,
    n_rows BIGINT NOT NULL,
    packed BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, day)
);
-- Tenants whose rows predate packed days: the store packs their days from
-- the rows when it next migrates, then removes the tenant from this list.
CREATE TABLE packed_days_pending (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants (id)
);
INSERT INTO packed_days_pending (tenant_id)
    SELECT tenant_id FROM contacts UNION SELECT tenant_id FROM survey_responses;
