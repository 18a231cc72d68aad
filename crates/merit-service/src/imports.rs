//! Imports as a caller may make and read them: who may load which kind of
//! file, the history of batches with their row problems, and column
//! mappings saved by name (validated, audited).

use crate::access::Caller;
use crate::import::{ImportReport, ImportRequest, import_file};
use crate::{Clock, ServiceError};
use merit_domain::access::Role;
use merit_import::ImportKind;
use merit_import::mapped::Mapping;
use merit_store::{AuditEntry, ImportBatchRecord, SavedMapping, Store, StoredProblem};
use std::sync::Arc;

/// Who loads contacts, surveys and the organisation.
const IMPORTERS: &[Role] = &[Role::OperationsManager, Role::Administrator];
/// Who also loads agent states, schedules and absences.
const WORKFORCE_IMPORTERS: &[Role] = &[
    Role::WorkforceManager,
    Role::OperationsManager,
    Role::Administrator,
];

fn may_import(kind: ImportKind) -> &'static [Role] {
    match kind {
        ImportKind::States | ImportKind::Schedules | ImportKind::Absences => WORKFORCE_IMPORTERS,
        _ => IMPORTERS,
    }
}

/// Whether `caller` may import files of `kind` (checked again by `import`;
/// this lets an upload be refused before its body is read).
pub fn check_import(caller: &Caller, kind: ImportKind) -> Result<(), ServiceError> {
    caller.require(may_import(kind), "import files of this kind")
}

/// Whether `caller` may read import jobs and batches.
pub fn check_history(caller: &Caller) -> Result<(), ServiceError> {
    caller.require(WORKFORCE_IMPORTERS, "read the import history")
}

/// Imports a file as `caller` (its tenant and name go into the request).
pub async fn import(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    mut request: ImportRequest<'_>,
) -> Result<ImportReport, ServiceError> {
    check_import(caller, request.kind)?;
    request.tenant = caller.tenant;
    request.actor = &caller.name;
    let report = import_file(store, clock, request).await?;
    // The import is stored whatever happens next; a notification that
    // cannot be written is logged, never turned into a failed import.
    if let Err(error) = crate::notifications::after_import(store, clock, caller, &report).await {
        tracing::warn!("notifications after batch {}: {error}", report.batch_id);
    }
    Ok(report)
}

/// Every import batch, oldest first.
pub async fn batches(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<ImportBatchRecord>, ServiceError> {
    check_history(caller)?;
    Ok(store.import_batches(caller.tenant).await?)
}

/// The row problems kept with a batch.
pub async fn problems(
    store: &Store,
    caller: &Caller,
    batch_id: i64,
) -> Result<Vec<StoredProblem>, ServiceError> {
    check_history(caller)?;
    if !store
        .import_batches(caller.tenant)
        .await?
        .iter()
        .any(|b| b.id == batch_id)
    {
        return Err(ServiceError::NotFound);
    }
    Ok(store.import_problems(caller.tenant, batch_id).await?)
}

pub async fn mappings(store: &Store, caller: &Caller) -> Result<Vec<SavedMapping>, ServiceError> {
    caller.require(WORKFORCE_IMPORTERS, "read saved mappings")?;
    Ok(store.mappings(caller.tenant).await?)
}

/// A saved mapping, parsed, to import with.
pub async fn mapping(
    store: &Store,
    caller: &Caller,
    name: &str,
) -> Result<Arc<Mapping>, ServiceError> {
    caller.require(WORKFORCE_IMPORTERS, "use saved mappings")?;
    let saved = store
        .mapping(caller.tenant, name)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Mapping::parse(&saved.toml)
        .map(Arc::new)
        .map_err(|reason| ServiceError::Invalid {
            field: "mapping",
            reason,
        })
}

/// Saves a mapping by name after checking it parses (audited with before and after).
pub async fn save_mapping(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    name: &str,
    toml: &str,
) -> Result<SavedMapping, ServiceError> {
    caller.require(IMPORTERS, "save mappings")?;
    let name = name.trim();
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(ServiceError::Invalid {
            field: "name",
            reason: "must be one word without spaces or '/'".into(),
        });
    }
    Mapping::parse(toml).map_err(|reason| ServiceError::Invalid {
        field: "toml",
        reason,
    })?;
    let before = store.mapping(caller.tenant, name).await?;
    let saved = SavedMapping {
        name: name.to_owned(),
        toml: toml.to_owned(),
        saved_ms: clock.now_ms(),
        saved_by: caller.name.clone(),
    };
    let audit = AuditEntry {
        at_ms: saved.saved_ms,
        actor: caller.name.clone(),
        action: if before.is_some() {
            "mapping.update"
        } else {
            "mapping.create"
        }
        .into(),
        record_kind: "import_mapping".into(),
        record_id: saved.name.clone(),
        before_json: before.map(|b| serde_json::json!({ "toml": b.toml }).to_string()),
        after_json: Some(serde_json::json!({ "toml": saved.toml }).to_string()),
    };
    store.save_mapping(caller.tenant, &saved, &audit).await?;
    Ok(saved)
}
