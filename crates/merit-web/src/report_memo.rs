//! The reports (and survey lists) pages asked for recently, kept while
//! nothing they show can have changed. Each is stored with the latest audit entry's number
//! (every import, definition, target and organisation change adds one)
//! and the time it was computed (an FCR window can close with time alone,
//! so an entry lasts a minute at most). A page seen again then costs one
//! indexed query instead of its reports. Keyed by everything that decides
//! what a caller may see (role, scope, agent) and by the whole request.

use crate::AppState;
use merit_domain::metrics::Report;
use merit_service::ServiceError;
use merit_service::access::Caller;
use merit_service::metrics::ReportRequest;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

const MAX_ENTRIES: usize = 512;
const FRESH_MS: i64 = 60_000;

struct Entry {
    audit_version: i64,
    computed_ms: i64,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
pub struct ReportMemo {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ReportMemo {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `merit_service::reports::report`, or the same report computed since
    /// the last change.
    pub async fn report(
        &self,
        state: &AppState,
        caller: &Caller,
        request: &ReportRequest,
    ) -> Result<Arc<Report>, ServiceError> {
        let compute =
            merit_service::reports::report(&state.store, state.clock.as_ref(), caller, request);
        self.remember(state, caller, format!("{request:?}"), compute)
            .await
    }

    /// What `compute` answers for `caller`, or the answer `what` had since
    /// the last change (`what` names the question in full).
    pub async fn remember<T: Send + Sync + 'static>(
        &self,
        state: &AppState,
        caller: &Caller,
        what: String,
        compute: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<Arc<T>, ServiceError> {
        let moment = Moment::now(state, caller).await?;
        let key = key(caller, &what);
        if let Some(value) = self.get(&key, moment) {
            return Ok(value);
        }
        let value = Arc::new(compute.await?);
        self.keep(key, moment, value.clone());
        Ok(value)
    }

    /// What was kept under `key`, if nothing has changed since.
    pub fn get<T: Send + Sync + 'static>(&self, key: &str, moment: Moment) -> Option<Arc<T>> {
        self.lock()
            .get(key)
            .filter(|e| moment.sees(e))
            .and_then(|e| e.value.clone().downcast::<T>().ok())
    }

    /// Keeps `value` under `key`, as of `moment`.
    pub fn keep<T: Send + Sync + 'static>(&self, key: String, moment: Moment, value: Arc<T>) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| moment.sees(e));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                audit_version: moment.audit_version,
                computed_ms: moment.now_ms,
                value,
            },
        );
    }
}

/// The state of the data a kept answer is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    audit_version: i64,
    now_ms: i64,
}

impl Moment {
    pub async fn now(state: &AppState, caller: &Caller) -> Result<Moment, ServiceError> {
        Ok(Moment {
            audit_version: state.store.audit_version(caller.tenant).await?,
            now_ms: state.clock.now_ms(),
        })
    }

    fn sees(self, entry: &Entry) -> bool {
        entry.audit_version == self.audit_version && self.now_ms - entry.computed_ms < FRESH_MS
    }
}

/// Everything that decides what a caller may see, and the question.
pub fn key(caller: &Caller, what: &str) -> String {
    format!(
        "{}|{}|{:?}|{}|{:?}|{what}",
        caller.tenant, caller.name, caller.role, caller.scope, caller.agent_id
    )
}
