//! Users, API tokens and web sessions. Each change to a user or a token is
//! written with its audit entry in one transaction.

use crate::{AuditEntry, Store, StoreResult, insert_audit, on_store};
use merit_domain::TenantId;

/// A user as stored (the password only as its argon2 hash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub scope: String,
    pub agent_id: Option<String>,
    pub disabled: bool,
    pub created_ms: i64,
    pub password_changed_ms: i64,
}

/// An API token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub token_hash: String,
    pub role: String,
    pub scope: String,
    pub agent_id: Option<String>,
    pub created_ms: i64,
    pub created_by: String,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, role, scope, agent_id, disabled, created_ms, password_changed_ms";
const TOKEN_COLUMNS: &str =
    "id, name, token_hash, role, scope, agent_id, created_ms, created_by, revoked_ms, last_used_ms";

impl Store {
    pub async fn users(&self, tenant: TenantId) -> StoreResult<Vec<UserRecord>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY username");
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .fetch_all(pool)
        .await?))
    }

    pub async fn user_named(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND username = $2");
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(username)
        .fetch_optional(pool)
        .await?))
    }

    pub async fn user(&self, tenant: TenantId, id: i64) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    /// Adds a user (its id is the next free one; `user.id` is ignored) with
    /// its audit entry, whose record_id is set to the new id. Returns the id.
    pub async fn add_user(
        &self,
        tenant: TenantId,
        user: &UserRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        let next = "SELECT COALESCE(MAX(id), 0) + 1 FROM users WHERE tenant_id = $1";
        let insert = format!(
            "INSERT INTO users (tenant_id, {USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id: i64 = sqlx::query_scalar(next)
                    .bind(tenant)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(insert.as_str()))
                    .bind(tenant)
                    .bind(id)
                    .bind(&user.username)
                    .bind(&user.display_name)
                    .bind(&user.password_hash)
                    .bind(&user.role)
                    .bind(&user.scope)
                    .bind(&user.agent_id)
                    .bind(user.disabled)
                    .bind(user.created_ms)
                    .bind(user.password_changed_ms)
                    .execute(&mut *tx)
                    .await?;
                let audit = AuditEntry {
                    record_id: id.to_string(),
                    ..audit.clone()
                };
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
                id
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Saves a changed user (role, scope, password, disabled...) with its audit entry.
    pub async fn update_user(
        &self,
        tenant: TenantId,
        user: &UserRecord,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let sql = "UPDATE users SET display_name = $3, password_hash = $4, role = $5, scope = $6,
                   agent_id = $7, disabled = $8, password_changed_ms = $9 WHERE tenant_id = $1 AND id = $2";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query(sql)
                    .bind(tenant)
                    .bind(user.id)
                    .bind(&user.display_name)
                    .bind(&user.password_hash)
                    .bind(&user.role)
                    .bind(&user.scope)
                    .bind(&user.agent_id)
                    .bind(user.disabled)
                    .bind(user.password_changed_ms)
                    .execute(&mut *tx)
                    .await?;
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
            }};
        }
        on_store!(self, |pool| run!(pool));
        Ok(())
    }

    pub async fn tokens(&self, tenant: TenantId) -> StoreResult<Vec<TokenRecord>> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY id");
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .fetch_all(pool)
        .await?))
    }

    /// The token with this hash, in any tenant, with its tenant.
    pub async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TenantId, TokenRecord)>> {
        let sql =
            format!("SELECT tenant_id, {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        type Found = Option<(
            TenantId,
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            i64,
            String,
            Option<i64>,
            Option<i64>,
        )>;
        let found: Found = on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        Ok(found.map(
            |(
                tenant,
                id,
                name,
                token_hash,
                role,
                scope,
                agent_id,
                created_ms,
                created_by,
                revoked_ms,
                last_used_ms,
            )| {
                (
                    tenant,
                    TokenRecord {
                        id,
                        name,
                        token_hash,
                        role,
                        scope,
                        agent_id,
                        created_ms,
                        created_by,
                        revoked_ms,
                        last_used_ms,
                    },
                )
            },
        ))
    }

    /// Adds a token with its audit entry; returns its id.
    pub async fn add_token(
        &self,
        tenant: TenantId,
        token: &TokenRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        let next = "SELECT COALESCE(MAX(id), 0) + 1 FROM api_tokens WHERE tenant_id = $1";
        let insert = format!(
            "INSERT INTO api_tokens (tenant_id, {TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL)"
        );
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id: i64 = sqlx::query_scalar(next)
                    .bind(tenant)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(insert.as_str()))
                    .bind(tenant)
                    .bind(id)
                    .bind(&token.name)
                    .bind(&token.token_hash)
                    .bind(&token.role)
                    .bind(&token.scope)
                    .bind(&token.agent_id)
                    .bind(token.created_ms)
                    .bind(&token.created_by)
                    .execute(&mut *tx)
                    .await?;
                let audit = AuditEntry {
                    record_id: id.to_string(),
                    ..audit.clone()
                };
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
                id
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Revokes a token (once) with its audit entry; false if there is no such live token.
    pub async fn revoke_token(
        &self,
        tenant: TenantId,
        id: i64,
        at_ms: i64,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let sql = "UPDATE api_tokens SET revoked_ms = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_ms IS NULL";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let changed = sqlx::query(sql)
                    .bind(tenant)
                    .bind(id)
                    .bind(at_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed == 1 {
                    insert_audit!(tenant, audit, &mut *tx)?;
                }
                tx.commit().await?;
                changed == 1
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Records that a token was used at `at_ms`.
    pub async fn touch_token(&self, tenant: TenantId, id: i64, at_ms: i64) -> StoreResult<()> {
        let sql = "UPDATE api_tokens SET last_used_ms = $3 WHERE tenant_id = $1 AND id = $2";
        on_store!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(id)
            .bind(at_ms)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// A session's tenant, data and expiry, unless it is unknown or expired at `now_ms`.
    pub async fn session(
        &self,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<(TenantId, Vec<u8>, i64)>> {
        let sql =
            "SELECT tenant_id, data, expiry_ms FROM web_sessions WHERE id = $1 AND expiry_ms > $2";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .bind(now_ms)
            .fetch_optional(pool)
            .await?))
    }

    /// Creates a session; false when the id is taken.
    pub async fn create_session(
        &self,
        tenant: TenantId,
        id: &str,
        data: &[u8],
        expiry_ms: i64,
    ) -> StoreResult<bool> {
        let sql = "INSERT INTO web_sessions (tenant_id, id, data, expiry_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING";
        Ok(on_store!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(id)
            .bind(data)
            .bind(expiry_ms)
            .execute(pool)
            .await?
            .rows_affected())
            == 1)
    }

    /// Saves a session, creating it if needed.
    pub async fn save_session(
        &self,
        tenant: TenantId,
        id: &str,
        data: &[u8],
        expiry_ms: i64,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO web_sessions (tenant_id, id, data, expiry_ms) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_ms = excluded.expiry_ms";
        on_store!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(id)
            .bind(data)
            .bind(expiry_ms)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    pub async fn delete_session(&self, id: &str) -> StoreResult<()> {
        on_store!(self, |pool| sqlx::query(
            "DELETE FROM web_sessions WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Removes the sessions that expired by `now_ms`.
    pub async fn delete_expired_sessions(&self, now_ms: i64) -> StoreResult<u64> {
        Ok(on_store!(self, |pool| sqlx::query(
            "DELETE FROM web_sessions WHERE expiry_ms <= $1"
        )
        .bind(now_ms)
        .execute(pool)
        .await?
        .rows_affected()))
    }
}
