//! Who may do what: users with a role and a scope (SPEC.md), passwords
//! hashed with argon2, API tokens for systems, and the checks every use
//! case makes before it reads or writes. Changes to users and tokens are
//! audited.

use crate::invalid;
use crate::{Clock, ServiceError};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use merit_domain::TenantId;
use merit_domain::access::{Role, Scope};
use merit_store::{AuditEntry, Store, TokenRecord, UserRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Every role that reads the centre's data within its scope: all but
/// `client` (contracts arrive with their issue).
pub const READERS: &[Role] = &[
    Role::Agent,
    Role::TeamLead,
    Role::QaSpecialist,
    Role::Trainer,
    Role::WorkforceManager,
    Role::OperationsManager,
    Role::CompensationAdmin,
    Role::Administrator,
];

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Who is asking: a signed-in user, an API token, or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    /// The user's name, `token:<name>` for a token, `cli` for the command line.
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    /// For scope `self`: the agent record the caller is.
    pub agent_id: Option<String>,
}

impl Caller {
    /// The command line: an administrator of the whole centre (whoever can
    /// run the binary on the database can read and write it anyway).
    pub fn command_line(tenant: TenantId) -> Self {
        Caller {
            tenant,
            name: "cli".into(),
            role: Role::Administrator,
            scope: Scope::Centre,
            agent_id: None,
        }
    }

    /// Allowed when the caller has one of `roles`; otherwise 403
    /// (`Forbidden`). A client sees nothing yet: `NotFound`, as if the
    /// resource did not exist (contracts arrive with their issue).
    pub fn require(&self, roles: &[Role], action: &'static str) -> Result<(), ServiceError> {
        if matches!(self.scope, Scope::Contract(_)) {
            Err(ServiceError::NotFound)
        } else if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden {
                action,
                role: self.role.as_str(),
            })
        }
    }

    /// For reads: a caller who may not read this is told it does not exist.
    pub fn may_read(&self, roles: &[Role]) -> Result<(), ServiceError> {
        if roles.contains(&self.role) && !matches!(self.scope, Scope::Contract(_)) {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        }
    }
}

/// A user as the API and the CLI show it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: String,
    pub agent_id: Option<String>,
    pub disabled: bool,
    pub created_ms: i64,
}

impl From<UserRecord> for User {
    fn from(u: UserRecord) -> Self {
        User {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            scope: u.scope,
            agent_id: u.agent_id,
            disabled: u.disabled,
            created_ms: u.created_ms,
        }
    }
}

/// What a new user is.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub scope: Scope,
    pub agent_id: Option<String>,
}

/// A new random password: 16 letters and digits (about 95 bits).
pub fn generate_password() -> Result<String, ServiceError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::Io(std::io::Error::other(format!("no randomness: {e}"))))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// The argon2 (PHC string) hash of a password.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::Io(std::io::Error::other(format!("hashing a password: {e}"))))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn check_password(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A role goes with some scopes only: an agent sees their own records (and
/// names the agent they are), a client its contracts, the others a team, a
/// site or the centre.
fn check_role_scope(role: Role, scope: &Scope, agent_id: Option<&str>) -> Result<(), ServiceError> {
    let fits = match role {
        Role::Agent => matches!(scope, Scope::OwnRecords),
        Role::Client => matches!(scope, Scope::Contract(_)),
        _ => matches!(scope, Scope::Team(_) | Scope::Site(_) | Scope::Centre),
    };
    if !fits {
        return Err(invalid(
            "scope",
            format!("{scope} does not go with the role {}", role.as_str()),
        ));
    }
    if matches!(scope, Scope::OwnRecords) && agent_id.is_none() {
        return Err(invalid(
            "agent_id",
            "scope self needs the agent the user is",
        ));
    }
    Ok(())
}

fn audit(
    caller: &Caller,
    clock: &dyn Clock,
    action: &str,
    kind: &str,
    id: String,
    before: Option<&User>,
    after: Option<&User>,
) -> AuditEntry {
    AuditEntry {
        at_ms: clock.now_ms(),
        actor: caller.name.clone(),
        action: action.into(),
        record_kind: kind.into(),
        record_id: id,
        before_json: before.and_then(|u| serde_json::to_string(u).ok()),
        after_json: after.and_then(|u| serde_json::to_string(u).ok()),
    }
}

/// Adds a user (administrators only). Returns the new user.
pub async fn add_user(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    new: NewUser,
) -> Result<User, ServiceError> {
    caller.require(&[Role::Administrator], "add users")?;
    let username = new.username.trim().to_owned();
    if username.is_empty()
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid("username", "must be one word without spaces"));
    }
    if new.display_name.trim().is_empty() {
        return Err(invalid("display_name", "is empty"));
    }
    check_password(&new.password)?;
    check_role_scope(new.role, &new.scope, new.agent_id.as_deref())?;
    if store.user_named(caller.tenant, &username).await?.is_some() {
        return Err(invalid("username", format!("{username:?} is taken")));
    }
    let now_ms = clock.now_ms();
    let mut record = UserRecord {
        id: 0,
        username,
        display_name: new.display_name.trim().to_owned(),
        password_hash: hash_password(&new.password)?,
        role: new.role.as_str().into(),
        scope: new.scope.to_string(),
        agent_id: new.agent_id,
        disabled: false,
        created_ms: now_ms,
        password_changed_ms: now_ms,
    };
    let after = User::from(record.clone());
    let entry = audit(
        caller,
        clock,
        "user.create",
        "user",
        String::new(),
        None,
        Some(&after),
    );
    record.id = store.add_user(caller.tenant, &record, &entry).await?;
    Ok(User::from(record))
}

pub async fn list_users(store: &Store, caller: &Caller) -> Result<Vec<User>, ServiceError> {
    caller.require(&[Role::Administrator], "list users")?;
    Ok(store
        .users(caller.tenant)
        .await?
        .into_iter()
        .map(User::from)
        .collect())
}

/// What an administrator changes about a user.
#[derive(Debug, Clone)]
pub enum UserChange {
    Role {
        role: Role,
        scope: Scope,
        agent_id: Option<String>,
    },
    Disabled(bool),
    Password(String),
}

/// Changes a user (administrators only), audited with before and after.
pub async fn change_user(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    username: &str,
    change: UserChange,
) -> Result<User, ServiceError> {
    caller.require(&[Role::Administrator], "change users")?;
    let mut record = store
        .user_named(caller.tenant, username)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let before = User::from(record.clone());
    let action = match change {
        UserChange::Role {
            role,
            scope,
            agent_id,
        } => {
            let agent_id = agent_id.or(record.agent_id.clone());
            check_role_scope(role, &scope, agent_id.as_deref())?;
            if record.username == caller.name && role != Role::Administrator {
                return Err(invalid(
                    "role",
                    "an administrator cannot take the role away from themselves",
                ));
            }
            record.role = role.as_str().into();
            record.scope = scope.to_string();
            record.agent_id = agent_id;
            "user.set_role"
        }
        UserChange::Disabled(disabled) => {
            if record.username == caller.name && disabled {
                return Err(invalid(
                    "disabled",
                    "an administrator cannot disable themselves",
                ));
            }
            record.disabled = disabled;
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            }
        }
        UserChange::Password(password) => {
            check_password(&password)?;
            record.password_hash = hash_password(&password)?;
            record.password_changed_ms = clock.now_ms();
            "user.reset_password"
        }
    };
    let after = User::from(record.clone());
    let entry = audit(
        caller,
        clock,
        action,
        "user",
        record.id.to_string(),
        Some(&before),
        Some(&after),
    );
    store.update_user(caller.tenant, &record, &entry).await?;
    Ok(after)
}

/// A signed-in user changes their own password, giving the current one.
pub async fn change_own_password(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    username: &str,
    current: &str,
    new_password: &str,
) -> Result<(), ServiceError> {
    let mut record = store
        .user_named(tenant, username)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !password_matches(current, &record.password_hash) {
        return Err(invalid("current_password", "is not your current password"));
    }
    check_password(new_password)?;
    record.password_hash = hash_password(new_password)?;
    record.password_changed_ms = clock.now_ms();
    let user = User::from(record.clone());
    let caller = caller_of(tenant, &record)?;
    let entry = audit(
        &caller,
        clock,
        "user.change_password",
        "user",
        record.id.to_string(),
        Some(&user),
        Some(&user),
    );
    store.update_user(tenant, &record, &entry).await?;
    Ok(())
}

fn caller_of(tenant: TenantId, user: &UserRecord) -> Result<Caller, ServiceError> {
    Ok(Caller {
        tenant,
        name: user.username.clone(),
        role: Role::parse(&user.role)
            .ok_or_else(|| invalid("role", format!("stored role {:?} is unknown", user.role)))?,
        scope: Scope::parse(&user.scope).map_err(|e| invalid("scope", e.to_string()))?,
        agent_id: user.agent_id.clone(),
    })
}

/// A user who signed in, as the web layer keeps them in the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: i64,
    pub caller: Caller,
    /// A digest of the password's hash: it changes with every password
    /// change (a new salt), which ends the user's other sessions.
    pub password_fingerprint: String,
}

/// Checks a username and password. `None` for an unknown user, a wrong
/// password or a disabled user: the caller cannot tell which.
pub async fn authenticate(
    store: &Store,
    tenant: TenantId,
    username: &str,
    password: &str,
) -> Result<Option<SignedIn>, ServiceError> {
    let Some(user) = store.user_named(tenant, username.trim()).await? else {
        // Spend the same work as for a known user, so timing tells nothing.
        let _ = password_matches(password, dummy_hash());
        return Ok(None);
    };
    if user.disabled || !password_matches(password, &user.password_hash) {
        return Ok(None);
    }
    signed_in(tenant, user).map(Some)
}

/// The signed-in form of user `id`, if it still exists and is enabled.
pub async fn user_session(
    store: &Store,
    tenant: TenantId,
    user_id: i64,
) -> Result<Option<SignedIn>, ServiceError> {
    match store.user(tenant, user_id).await? {
        Some(user) if !user.disabled => signed_in(tenant, user).map(Some),
        _ => Ok(None),
    }
}

fn signed_in(tenant: TenantId, user: UserRecord) -> Result<SignedIn, ServiceError> {
    Ok(SignedIn {
        user_id: user.id,
        caller: caller_of(tenant, &user)?,
        password_fingerprint: token_hash(&user.password_hash),
    })
}

/// A hash to check against when the user is unknown (made once per process).
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no user has this password").unwrap_or_default())
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub scope: String,
    pub created_ms: i64,
    pub created_by: String,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

impl From<TokenRecord> for Token {
    fn from(t: TokenRecord) -> Self {
        Token {
            id: t.id,
            name: t.name,
            role: t.role,
            scope: t.scope,
            created_ms: t.created_ms,
            created_by: t.created_by,
            revoked_ms: t.revoked_ms,
            last_used_ms: t.last_used_ms,
        }
    }
}

fn token_hash(token: &str) -> String {
    crate::hex(&Sha256::digest(token.as_bytes()))
}

/// Creates an API token (administrators only): the token is returned once
/// and stored only as its SHA-256 (it is random, so a fast hash suffices).
pub async fn create_token(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    name: &str,
    role: Role,
    scope: Scope,
    agent_id: Option<String>,
) -> Result<(Token, String), ServiceError> {
    caller.require(&[Role::Administrator], "create API tokens")?;
    if name.trim().is_empty() {
        return Err(invalid("name", "is empty"));
    }
    check_role_scope(role, &scope, agent_id.as_deref())?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| ServiceError::Io(std::io::Error::other(format!("no randomness: {e}"))))?;
    let token = format!("merit_{}", crate::hex(&secret));
    let mut record = TokenRecord {
        id: 0,
        name: name.trim().into(),
        token_hash: token_hash(&token),
        role: role.as_str().into(),
        scope: scope.to_string(),
        agent_id,
        created_ms: clock.now_ms(),
        created_by: caller.name.clone(),
        revoked_ms: None,
        last_used_ms: None,
    };
    let entry = AuditEntry {
        at_ms: clock.now_ms(),
        actor: caller.name.clone(),
        action: "token.create".into(),
        record_kind: "api_token".into(),
        record_id: String::new(),
        before_json: None,
        after_json: serde_json::to_string(&Token::from(record.clone())).ok(),
    };
    record.id = store.add_token(caller.tenant, &record, &entry).await?;
    Ok((Token::from(record), token))
}

pub async fn list_tokens(store: &Store, caller: &Caller) -> Result<Vec<Token>, ServiceError> {
    caller.require(&[Role::Administrator], "list API tokens")?;
    Ok(store
        .tokens(caller.tenant)
        .await?
        .into_iter()
        .map(Token::from)
        .collect())
}

pub async fn revoke_token(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
) -> Result<(), ServiceError> {
    caller.require(&[Role::Administrator], "revoke API tokens")?;
    let entry = AuditEntry {
        at_ms: clock.now_ms(),
        actor: caller.name.clone(),
        action: "token.revoke".into(),
        record_kind: "api_token".into(),
        record_id: id.to_string(),
        before_json: None,
        after_json: None,
    };
    if store
        .revoke_token(caller.tenant, id, clock.now_ms(), &entry)
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The caller a bearer token stands for, if it is a live token; records its use.
pub async fn token_caller(
    store: &Store,
    clock: &dyn Clock,
    token: &str,
) -> Result<Option<Caller>, ServiceError> {
    let Some((tenant, record)) = store.token_by_hash(&token_hash(token)).await? else {
        return Ok(None);
    };
    if record.revoked_ms.is_some() {
        return Ok(None);
    }
    store.touch_token(tenant, record.id, clock.now_ms()).await?;
    Ok(Some(Caller {
        tenant,
        name: format!("token:{}", record.name),
        role: Role::parse(&record.role).ok_or(ServiceError::NotFound)?,
        scope: Scope::parse(&record.scope).map_err(|e| invalid("scope", e.to_string()))?,
        agent_id: record.agent_id,
    }))
}

/// Audit entries, newest last, filtered (administrators only).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

pub async fn audit_log(
    store: &Store,
    caller: &Caller,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, ServiceError> {
    caller.require(&[Role::Administrator], "read the audit log")?;
    let matches =
        |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| w == value);
    Ok(store
        .audit_entries(caller.tenant)
        .await?
        .into_iter()
        .filter(|e| {
            matches(&filter.actor, &e.actor)
                && matches(&filter.action, &e.action)
                && matches(&filter.record_kind, &e.record_kind)
                && matches(&filter.record_id, &e.record_id)
                && filter.from_ms.is_none_or(|from| e.at_ms >= from)
                && filter.to_ms.is_none_or(|to| e.at_ms < to)
        })
        .collect())
}
