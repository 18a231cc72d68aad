-- Each user's inbox: what they should know about (a target missed, an
-- import finished with problems) until they mark it read. One notification
-- per recipient and key, so telling twice adds nothing.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    recipient TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    link TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    read_ms BIGINT,
    UNIQUE (tenant_id, recipient, dedupe_key)
);
