-- Who may use Merit: users with a role and a scope (SPEC.md), API tokens
-- for systems (stored hashed, shown once), and web sessions. The
-- foundation's placeholder users table was never written to; it is
-- replaced by this one.
DROP TABLE users;
CREATE TABLE users (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    -- The agent record a user with scope `self` is (agents see their own data).
    agent_id TEXT,
    disabled BOOLEAN NOT NULL,
    created_ms BIGINT NOT NULL,
    password_changed_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_by_name ON users (tenant_id, username);

CREATE TABLE api_tokens (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    agent_id TEXT,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_ms BIGINT,
    last_used_ms BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_tokens_by_hash ON api_tokens (token_hash);

CREATE TABLE web_sessions (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL PRIMARY KEY,
    data BYTEA NOT NULL,
    expiry_ms BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expiry_ms);
