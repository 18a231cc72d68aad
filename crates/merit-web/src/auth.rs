//! Who is calling: a signed-in user (axum-login over tower-sessions, kept
//! in Merit's database) or an API token, and the sign-in rate limits. What
//! a caller may do is decided in merit-service, never here.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_login::{AuthUser, AuthnBackend, UserId};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use merit_domain::TenantId;
use merit_service::access::{self, Caller, SignedIn};
use merit_service::{Clock, ServiceError};
use merit_store::Store;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// A signed-in user as the session knows them.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub signed_in: SignedIn,
    /// Changes with the password: a password change ends the other sessions.
    session_hash: Vec<u8>,
}

impl AuthUser for WebUser {
    type Id = i64;
    fn id(&self) -> i64 {
        self.signed_in.user_id
    }
    fn session_auth_hash(&self) -> &[u8] {
        &self.session_hash
    }
}

impl From<SignedIn> for WebUser {
    fn from(signed_in: SignedIn) -> Self {
        let session_hash = signed_in.password_fingerprint.as_bytes().to_vec();
        WebUser {
            signed_in,
            session_hash,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Users of one centre, checked in merit-service.
#[derive(Debug, Clone)]
pub struct Backend {
    pub store: Store,
    pub tenant: TenantId,
}

impl AuthnBackend for Backend {
    type User = WebUser;
    type Credentials = Credentials;
    type Error = ServiceError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<WebUser>, ServiceError> {
        Ok(
            access::authenticate(&self.store, self.tenant, &creds.username, &creds.password)
                .await?
                .map(WebUser::from),
        )
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<WebUser>, ServiceError> {
        Ok(access::user_session(&self.store, self.tenant, *id)
            .await?
            .map(WebUser::from))
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;

/// The caller of an API route: an API token, else the session's user; 401 otherwise.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(ApiError::unauthenticated)?;
            return match access::token_caller(&state.store, state.clock.as_ref(), token.trim())
                .await?
            {
                Some(caller) if caller.tenant == state.tenant => Ok(ApiCaller(caller)),
                _ => Err(ApiError::unauthenticated()),
            };
        }
        session_caller(parts)
            .map(ApiCaller)
            .ok_or_else(ApiError::unauthenticated)
    }
}

fn session_caller(parts: &Parts) -> Option<Caller> {
    parts
        .extensions
        .get::<AuthSession>()
        .and_then(|session| session.user.clone())
        .map(|user| user.signed_in.caller)
}

/// The caller of a page: the session's user, else a redirect to sign-in.
pub struct PageCaller(pub Caller);

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Response> {
        session_caller(parts)
            .map(PageCaller)
            .ok_or_else(|| Redirect::to("/sign-in").into_response())
    }
}

/// The application clock, for the rate limiter.
#[derive(Clone)]
pub struct LimiterClock(pub Arc<dyn Clock>);

impl governor::clock::Clock for LimiterClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.now_ms()).unwrap_or(0))
    }
}

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, LimiterClock, NoOpMiddleware<Duration>>;

/// Sign-in attempts per account and per address. An account may try 5
/// times at once, then once a minute; an address 20 times, then once every
/// 15 seconds. A lockout ends by itself as the allowance refills.
pub struct SignInLimits {
    by_account: Limiter,
    by_address: Limiter,
}

impl SignInLimits {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let quota = |burst: u32, every_s: u64| {
            Quota::with_period(Duration::from_secs(every_s))
                .unwrap_or_else(|| unreachable!("the period is not zero"))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        let limiter = |quota| {
            RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                LimiterClock(clock.clone()),
            )
        };
        SignInLimits {
            by_account: limiter(quota(5, 60)),
            by_address: limiter(quota(20, 15)),
        }
    }

    /// Counts an attempt; `Err(seconds)` says how long until the next one is allowed.
    pub fn attempt(&self, username: &str, address: &str, now: Duration) -> Result<(), u64> {
        let wait = |limiter: &Limiter, key: String| {
            limiter
                .check_key(&key)
                .map_err(|not_until| not_until.wait_time_from(now).as_secs().max(1))
        };
        wait(&self.by_address, address.to_owned())?;
        wait(&self.by_account, username.trim().to_lowercase())
    }
}
