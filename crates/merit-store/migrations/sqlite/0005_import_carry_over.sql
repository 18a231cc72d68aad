-- Source events kept between imports because the record they belong to is
-- not complete yet (an Asterisk queue_log call cut by log rotation), with
-- where each was read. Each import of the format reads them and replaces
-- them, in its own transaction.
CREATE TABLE import_carry_over (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    format TEXT NOT NULL,
    line TEXT NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (tenant_id, format, line)
);
