//! Import contract, run on every backend: idempotence, revisions, row
//! problems with file and line, refused files, unknown references, batches,
//! and the append-only audit log.

mod stores;

use merit_domain::DEFAULT_TENANT;
use merit_import::{ImportFormat, ImportKind};
use merit_service::FixedClock;
use merit_service::import::{ImportReport, ImportRequest, import_file};
use merit_store::{RecordKind, Store};
use std::path::Path;

const HEADER: &str =
    "source_id,channel,arrival,end,outcome,queue_id,agent_id,queue_entry,answer,holds";

/// Two good contacts: an answered call with a hold, and a queue abandon.
fn two_contacts() -> String {
    format!(
        "{HEADER}\n\
         c1,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,handled,billing,ag001,2026-08-03T08:00:10Z,2026-08-03T08:00:30Z,2026-08-03T08:01:00Z/2026-08-03T08:01:30Z\n\
         c2,voice_inbound,2026-08-03T08:02:00Z,2026-08-03T08:03:00Z,queue_abandon,billing,,2026-08-03T08:02:05Z,,\n"
    )
}

async fn import(
    store: &Store,
    kind: ImportKind,
    path: &Path,
) -> Result<ImportReport, merit_service::ServiceError> {
    import_as(store, kind, path, false).await
}

/// `import`, as a batch run (`alone`: the command line's) or not.
async fn import_as(
    store: &Store,
    kind: ImportKind,
    path: &Path,
    alone: bool,
) -> Result<ImportReport, merit_service::ServiceError> {
    let request = ImportRequest {
        tenant: DEFAULT_TENANT,
        actor: "test",
        kind,
        format: ImportFormat::Native,
        time_zone: None,
        mapping: None,
        cdr_layout: None,
        display_name: None,
        path,
        progress: &|_| {},
        alone,
    };
    import_file(store, &FixedClock(1_000), request).await
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn importing_twice_adds_nothing_and_a_changed_record_becomes_a_revision() {
    for store in stores::stores("idempotent").await {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "contacts.csv", two_contacts().as_bytes());
        let first = import(&store, ImportKind::Contacts, &path).await.unwrap();
        assert_eq!(
            (
                first.inserted,
                first.updated,
                first.unchanged,
                first.rejected
            ),
            (2, 0, 0, 0)
        );
        let second = import(&store, ImportKind::Contacts, &path).await.unwrap();
        assert_eq!(
            (second.inserted, second.updated, second.unchanged),
            (0, 0, 2)
        );
        // c2 is now recorded as a short call that was answered: a new revision.
        let changed = two_contacts().replace(
            "c2,voice_inbound,2026-08-03T08:02:00Z,2026-08-03T08:03:00Z,queue_abandon,billing,,2026-08-03T08:02:05Z,,",
            "c2,voice_inbound,2026-08-03T08:02:00Z,2026-08-03T08:03:00Z,handled,billing,ag002,2026-08-03T08:02:05Z,2026-08-03T08:02:10Z,",
        );
        let path = write(&dir, "contacts2.csv", changed.as_bytes());
        let third = import(&store, ImportKind::Contacts, &path).await.unwrap();
        assert_eq!(
            (third.inserted, third.updated, third.unchanged),
            (0, 1, 1),
            "{}",
            store.backend_name()
        );
        assert_eq!(
            store
                .count_current(DEFAULT_TENANT, RecordKind::Contacts)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .count_revisions(DEFAULT_TENANT, RecordKind::Contacts)
                .await
                .unwrap(),
            3
        );
        let batches = store.import_batches(DEFAULT_TENANT).await.unwrap();
        assert_eq!(batches.len(), 3);
        assert_eq!((batches[2].n_updated, batches[2].n_unchanged), (1, 1));
        assert_eq!(batches[0].kind, "contacts");
    }
}

#[tokio::test]
async fn bad_rows_are_reported_with_line_and_field_while_good_rows_go_in() {
    for store in stores::stores("bad_rows").await {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            // line 2: good
            "g1,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,handled,billing,ag001,2026-08-03T08:00:00Z,2026-08-03T08:00:20Z,",
            // line 3: unparsable time
            "b1,voice_inbound,yesterday,2026-08-03T08:05:00Z,handled,billing,ag001,,2026-08-03T08:00:20Z,",
            // line 4: end before start
            "b2,voice_inbound,2026-08-03T09:00:00Z,2026-08-03T08:05:00Z,menu_abandon,,,,,",
            // line 5: negative hold
            "b3,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,handled,billing,ag001,,2026-08-03T08:00:20Z,2026-08-03T08:02:00Z/2026-08-03T08:01:00Z",
            // line 6: missing fields
            "b4,voice_inbound,2026-08-03T08:00:00Z",
            // line 7: unknown outcome
            "b5,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,lost,billing,,,,",
            // line 8: duplicate source id of line 2
            "g1,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:06:00Z,handled,billing,ag001,2026-08-03T08:00:00Z,2026-08-03T08:00:20Z,",
            // line 9: good, unknown queue and agent
            "g2,chat,2026-08-03T08:00:00Z,2026-08-03T08:09:00Z,handled,nowhere,ghost,2026-08-03T08:00:00Z,2026-08-03T08:01:00Z,",
        ];
        let path = write(
            &dir,
            "bad.csv",
            format!("{HEADER}\n{}\n", rows.join("\n")).as_bytes(),
        );
        let report = import(&store, ImportKind::Contacts, &path).await.unwrap();
        assert_eq!((report.inserted, report.rejected), (2, 6));
        let found: Vec<(u64, &str)> = report
            .problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, "arrival"),
                (4, "end"),
                (5, "holds"),
                (6, "(row)"),
                (7, "outcome"),
                (8, "source_id")
            ]
        );
        let shown = report.problems[0].to_string();
        assert!(
            shown.starts_with(&format!("{}:3: arrival: ", path.display())),
            "{shown}"
        );
        // No organisation is loaded here, so every queue and agent is unknown: kept and listed.
        assert_eq!(report.notices.len(), 4, "{:?}", report.notices);
        assert!(
            report
                .notices
                .iter()
                .any(|n| n.starts_with("queue \"nowhere\" is not in the organisation (1 rows"))
        );
        assert!(
            report
                .notices
                .iter()
                .any(|n| n.starts_with("agent \"ghost\""))
        );
        assert_eq!(
            store
                .count_current(DEFAULT_TENANT, RecordKind::Contacts)
                .await
                .unwrap(),
            2
        );
    }
}

#[tokio::test]
async fn files_not_of_the_format_are_refused_before_anything_is_written() {
    let store = Store::open(":memory:").await.unwrap();
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", vec![], "empty"),
        (
            "binary.csv",
            vec![0x89, b'P', b'N', b'G', 0, 0, 1, 2, 0, 5],
            "binary",
        ),
        (
            "semicolons.csv",
            HEADER.replace(',', ";").into_bytes(),
            "separated by ';'",
        ),
        (
            "other.csv",
            b"name,amount\nx,1\n".to_vec(),
            "missing column(s) source_id, channel",
        ),
        (
            "broken.jsonl",
            b"{not json\n{}\n".to_vec(),
            "not a JSON object",
        ),
    ];
    for (name, bytes, expect) in cases {
        let path = write(&dir, name, &bytes);
        let error = import(&store, ImportKind::Contacts, &path)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(expect) && error.contains(name),
            "{name}: {error}"
        );
    }
    assert!(
        store
            .import_batches(DEFAULT_TENANT)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .count_revisions(DEFAULT_TENANT, RecordKind::Contacts)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn header_only_bom_latin1_and_json_lines_are_read() {
    let store = Store::open(":memory:").await.unwrap();
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let header_only = write(&dir, "header.csv", format!("{HEADER}\n").as_bytes());
    let report = import(&store, ImportKind::Contacts, &header_only)
        .await
        .unwrap();
    assert_eq!(report.total_rows(), 0);

    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(two_contacts().as_bytes());
    let report = import(&store, ImportKind::Contacts, &write(&dir, "bom.csv", &bom))
        .await
        .unwrap();
    assert_eq!(report.inserted, 2, "{:?}", report.problems);

    // "Müller" in Latin-1: ü is the single byte 0xFC.
    let mut latin1 =
        b"source_id,agent_id,at,state,reason\ns1,ag001,2026-08-03T08:00:00Z,not_ready,M".to_vec();
    latin1.extend_from_slice(&[0xFC]);
    latin1.extend_from_slice(b"ller\n");
    let report = import(
        &store,
        ImportKind::States,
        &write(&dir, "latin1.csv", &latin1),
    )
    .await
    .unwrap();
    assert_eq!(report.inserted, 1, "{:?}", report.problems);

    let lines = "{\"source_id\":\"j1\",\"agent_id\":\"ag001\",\"start\":\"2026-08-03T00:00:00Z\",\"end\":\"2026-08-04T00:00:00Z\",\"kind\":\"unplanned\",\"reason\":\"sickness\"}\n\
                 {\"source_id\":\"j2\",\"agent_id\":\"ag001\",\"start\":\"2026-08-05T00:00:00Z\",\"end\":\"2026-08-04T00:00:00Z\",\"kind\":\"planned\",\"reason\":\"holiday\"}\n";
    let report = import(
        &store,
        ImportKind::Absences,
        &write(&dir, "absences.jsonl", lines.as_bytes()),
    )
    .await
    .unwrap();
    assert_eq!((report.inserted, report.rejected), (1, 1));
    assert_eq!(
        (report.problems[0].line, report.problems[0].field.as_str()),
        (2, "end")
    );
}

#[tokio::test]
async fn surveys_group_answers_and_check_scales() {
    for store in stores::stores("surveys").await {
        let dir = tempfile::tempdir().unwrap();
        let csv = "source_id,answered_at,asked_by,question_id,scale,value,text\n\
                   s1,2026-08-03T09:00:00Z,agent,satisfied_with_answers,1-5,5,\n\
                   s1,2026-08-03T09:00:00Z,agent,resolved,yes_no,yes,\n\
                   s1,2026-08-03T09:00:00Z,agent,anything_else,text,,Très bien\n\
                   s2,2026-08-03T09:10:00Z,automated,recommend,0-10,11,\n";
        let report = import(
            &store,
            ImportKind::Surveys,
            &write(&dir, "surveys.csv", csv.as_bytes()),
        )
        .await
        .unwrap();
        assert_eq!((report.inserted, report.rejected), (1, 1));
        assert_eq!(
            (report.problems[0].line, report.problems[0].field.as_str()),
            (5, "value")
        );
    }
}

#[tokio::test]
async fn organisation_changes_are_audited_and_the_audit_log_is_append_only() {
    for store in stores::stores("audit").await {
        let dir = tempfile::tempdir().unwrap();
        let org = "record,id,name,site_id,time_zone,channel,hire_date,team_id,from_date\n\
                   site,berlin,Berlin,,Europe/Berlin,,,,\n\
                   team,team-a,Team A,berlin,,,,,\n\
                   queue,billing,Billing,berlin,,voice_inbound,,,\n\
                   agent,ag001,Anna Albers,berlin,,,2024-01-15,,\n\
                   membership,ag001,,,,,,team-a,2024-01-15\n\
                   team,team-x,Team X,mars,,,,,\n\
                   site,moon,Moon,,Moon/Crater,,,,\n";
        let report = import(
            &store,
            ImportKind::Organisation,
            &write(&dir, "org.csv", org.as_bytes()),
        )
        .await
        .unwrap();
        assert_eq!(
            (report.inserted, report.rejected),
            (5, 2),
            "{:?}",
            report.problems
        );
        let renamed = org.replace("Anna Albers", "Anna Brandt");
        let report = import(
            &store,
            ImportKind::Organisation,
            &write(&dir, "org2.csv", renamed.as_bytes()),
        )
        .await
        .unwrap();
        assert_eq!(
            (report.inserted, report.updated, report.unchanged),
            (0, 1, 4)
        );
        let audit = store.audit_entries(DEFAULT_TENANT).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        // Five records created and their batch, then one record updated and its batch.
        assert_eq!(
            actions,
            [
                ["organisation.create"; 5].as_slice(),
                &["import.batch", "organisation.update", "import.batch"]
            ]
            .concat()
        );
        let update = &audit[6];
        assert_eq!(update.record_id, "ag001");
        assert!(
            update
                .before_json
                .as_deref()
                .unwrap()
                .contains("Anna Albers")
        );
        assert!(
            update
                .after_json
                .as_deref()
                .unwrap()
                .contains("Anna Brandt")
        );
        assert!(
            store
                .execute_raw("UPDATE audit_log SET actor = 'someone else'")
                .await
                .is_err()
        );
        assert!(store.execute_raw("DELETE FROM audit_log").await.is_err());
        assert_eq!(
            store.audit_entries(DEFAULT_TENANT).await.unwrap(),
            audit,
            "{}",
            store.backend_name()
        );
    }
}

#[tokio::test]
async fn every_import_and_centre_change_is_audited() {
    for store in stores::stores("centre").await {
        let clock = FixedClock(5_000);
        let bad = merit_service::centre::configure_centre(
            &store,
            &clock,
            DEFAULT_TENANT,
            "admin",
            "Riverside",
            "Europe/Atlantis",
        )
        .await;
        assert_eq!(
            bad.unwrap_err().to_string(),
            "time_zone: \"Europe/Atlantis\" is not an IANA time zone"
        );
        merit_service::centre::configure_centre(
            &store,
            &clock,
            DEFAULT_TENANT,
            "admin",
            "Riverside",
            "Europe/Lisbon",
        )
        .await
        .unwrap();
        let centre = merit_service::centre::centre(&store, DEFAULT_TENANT)
            .await
            .unwrap();
        assert_eq!(
            centre,
            ("Riverside".to_string(), "Europe/Lisbon".to_string())
        );
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "contacts.csv", two_contacts().as_bytes());
        let report = import(&store, ImportKind::Contacts, &path).await.unwrap();
        let audit = store.audit_entries(DEFAULT_TENANT).await.unwrap();
        let actions: Vec<(&str, &str)> = audit
            .iter()
            .map(|a| (a.action.as_str(), a.actor.as_str()))
            .collect();
        assert_eq!(
            actions,
            vec![("centre.update", "admin"), ("import.batch", "test")]
        );
        assert!(
            audit[0]
                .before_json
                .as_deref()
                .unwrap()
                .contains("Default centre")
        );
        assert_eq!(audit[1].record_id, report.batch_id.to_string());
        assert!(
            audit[1]
                .after_json
                .as_deref()
                .unwrap()
                .contains("\"inserted\":2")
        );
    }
}

/// PostgreSQL lets a second writer run while an import is open; both
/// number their audit entries from the same maximum. The later one must
/// wait for the import and take the next number, not fail.
#[tokio::test]
async fn an_audit_entry_written_during_an_open_import_takes_the_next_number() {
    for store in stores::stores("audit_race").await {
        let Store::Postgres(pool) = &store else {
            continue; // SQLite has one writer at a time: nothing can race.
        };
        let entry = |action: &str| merit_store::AuditEntry {
            at_ms: 1,
            actor: "test".into(),
            action: action.into(),
            record_kind: "test".into(),
            record_id: "1".into(),
            before_json: None,
            after_json: None,
        };
        let mut import = merit_store::ImportTx::begin(&store, DEFAULT_TENANT)
            .await
            .unwrap();
        import.append_audit(&[entry("import")]).await.unwrap();
        let mapping = merit_store::SavedMapping {
            name: "m".into(),
            toml: String::new(),
            saved_ms: 1,
            saved_by: "test".into(),
        };
        let saving = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .save_mapping(DEFAULT_TENANT, &mapping, &entry("mapping"))
                    .await
            }
        });
        // Commit only once the second writer is waiting on the import's entry.
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit_log%'";
        while sqlx::query_scalar::<_, i64>(waiting)
            .fetch_one(pool)
            .await
            .unwrap()
            == 0
        {
            tokio::task::yield_now().await;
        }
        import
            .finish(merit_store::ImportBatchRecord {
                id: 0,
                kind: "contacts".into(),
                file_name: "f".into(),
                checksum: "c".into(),
                actor: "test".into(),
                started_ms: 1,
                finished_ms: 1,
                n_inserted: 0,
                n_updated: 0,
                n_unchanged: 0,
                n_rejected: 0,
            })
            .await
            .unwrap();
        saving.await.unwrap().unwrap();
        let actions: Vec<String> = store
            .audit_entries(DEFAULT_TENANT)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["import", "mapping"]);
    }
}

/// The journal mode a new connection finds in a SQLite file's header.
async fn journal_mode(db: &Path) -> String {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .unwrap();
    let mode = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    // Closed before the next step: an open connection keeps the file from being taken.
    sqlx::Connection::close(connection).await.unwrap();
    mode
}

#[tokio::test]
async fn a_batch_run_takes_a_sqlite_file_only_when_alone_and_gives_it_back_as_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alone.db");
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(journal_mode(&db).await, "wal");

    // Alone with the file: written with a rollback journal while the import
    // is open, WAL again once it has committed.
    let path = write(&dir, "contacts.csv", two_contacts().as_bytes());
    let import = merit_store::ImportTx::begin_alone(&store, DEFAULT_TENANT)
        .await
        .unwrap();
    assert!(import.took_file());
    assert_eq!(journal_mode(&db).await, "delete");
    // A failed import: nothing is stored, and the next opening sets WAL again.
    drop(import);
    store.close().await;
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(journal_mode(&db).await, "wal");
    let report = import_as(&store, ImportKind::Contacts, &path, true)
        .await
        .unwrap();
    assert_eq!((report.inserted, report.rejected), (2, 0));
    assert_eq!(journal_mode(&db).await, "wal");
    // Every connection the pool holds maps the file again, the one that
    // took it too (it stopped mapping while it wrote).
    let Store::Sqlite(pool) = &store else {
        unreachable!("a SQLite file")
    };
    let mut connections = Vec::new();
    for _ in 0..pool.size() {
        connections.push(pool.acquire().await.unwrap());
    }
    assert!(!connections.is_empty());
    for connection in &mut connections {
        let mmap_size: i64 = sqlx::query_scalar("PRAGMA mmap_size")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert!(mmap_size > 0, "a connection reads the file unmapped");
    }
    drop(connections);

    // Another connection has the file open (a server, say): the import
    // leaves it in WAL and writes the same rows.
    let other = Store::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(
        other
            .count_current(DEFAULT_TENANT, RecordKind::Contacts)
            .await
            .unwrap(),
        2
    );
    let import = merit_store::ImportTx::begin_alone(&store, DEFAULT_TENANT)
        .await
        .unwrap();
    assert!(!import.took_file());
    drop(import);
    let changed = two_contacts().replace("c1,", "c3,");
    let path = write(&dir, "contacts2.csv", changed.as_bytes());
    let report = import_as(&store, ImportKind::Contacts, &path, true)
        .await
        .unwrap();
    assert_eq!((report.inserted, report.unchanged), (1, 1));
    assert_eq!(journal_mode(&db).await, "wal");
    assert_eq!(
        other
            .count_current(DEFAULT_TENANT, RecordKind::Contacts)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn a_batch_records_the_files_sha256() {
    for store in stores::stores("checksum").await {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "contacts.csv", two_contacts().as_bytes());
        import(&store, ImportKind::Contacts, &path).await.unwrap();
        // coreutils' sha256sum: a second implementation of the digest.
        let sha256sum = std::process::Command::new("sha256sum")
            .arg(&path)
            .output()
            .expect("sha256sum (coreutils) runs");
        let printed = String::from_utf8(sha256sum.stdout).unwrap();
        let digest = printed.split_whitespace().next().unwrap();
        let batches = store.import_batches(DEFAULT_TENANT).await.unwrap();
        assert_eq!(batches[0].checksum, format!("sha256:{digest}"));
    }
}

#[tokio::test]
async fn an_id_repeated_chunks_later_in_a_first_load_is_reported_once_and_not_stored() {
    for store in stores::stores("first_load_repeat").await {
        let dir = tempfile::tempdir().unwrap();
        // 2,500 contacts, more than one chunk (1,000 rows); the 2,301st
        // line repeats c5 with another arrival, two chunks after c5.
        let mut csv = format!("{HEADER}\n");
        for i in 1..=2_500 {
            let minute = i % 60;
            csv.push_str(&format!(
                "c{i},voice_inbound,2026-08-03T08:{minute:02}:00Z,2026-08-03T08:{minute:02}:30Z,queue_abandon,billing,,2026-08-03T08:{minute:02}:05Z,,\n"
            ));
            if i == 2_299 {
                csv.push_str("c5,voice_inbound,2026-08-04T09:00:00Z,2026-08-04T09:00:30Z,queue_abandon,billing,,2026-08-04T09:00:05Z,,\n");
            }
        }
        let path = write(&dir, "contacts.csv", csv.as_bytes());
        let report = import(&store, ImportKind::Contacts, &path).await.unwrap();
        assert_eq!(
            (report.inserted, report.rejected),
            (2_500, 1),
            "{}",
            store.backend_name()
        );
        assert_eq!(report.problems.len(), 1);
        assert_eq!(
            (report.problems[0].line, report.problems[0].field.as_str()),
            (2_301, "source_id")
        );
        assert_eq!(
            store
                .count_current(DEFAULT_TENANT, RecordKind::Contacts)
                .await
                .unwrap(),
            2_500
        );
        // The packed days hold the same 2,500 (none on the repeat's day).
        let august = (1_785_542_400_000, 1_788_220_800_000);
        let packed = store
            .contact_table(DEFAULT_TENANT, august, false)
            .await
            .unwrap();
        assert_eq!(packed.len(), 2_500);
    }
}
