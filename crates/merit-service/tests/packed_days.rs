//! Packed days, on every backend: after imports, revisions that move a
//! contact to another day, and rewrites in the middle of an import, what
//! reports read from the packed days is exactly what the revisioned rows
//! hold (read the second way, row by row); databases whose rows predate
//! packed days are packed on `migrate`; a damaged packed day is an error
//! naming the day, never a panic.

mod stores;

use merit_domain::DEFAULT_TENANT;
use merit_domain::metrics::packed::{AnswerFacts, sort_answers, utc_day};
use merit_domain::metrics::{ContactFacts, ContactTable};
use merit_sim::{Collected, ScenarioConfig, simulate_centre};
use merit_store::{ImportBatchRecord, ImportTx, RecordKind, Row, Store, StoreError, StoreResult};

const DAY_MS: i64 = 86_400_000;
/// All of 2026.
const WHOLE: (i64, i64) = (1_767_225_600_000, 1_798_761_600_000);

fn simulated() -> Collected {
    let config = ScenarioConfig {
        days: 4,
        agents: 12,
        ..ScenarioConfig::default()
    };
    let mut collected = Collected::default();
    simulate_centre(&config, &mut collected);
    collected
}

/// Writes rows in chunks of 40 in one import whose packed days are
/// rewritten every 50 records, so most days are rewritten several times.
async fn import(store: &Store, mut contacts: Vec<Row>, mut surveys: Vec<Row>) {
    let mut tx = ImportTx::begin(store, DEFAULT_TENANT).await.unwrap();
    tx.rewrite_packed_days_every(50);
    for chunk in contacts.chunks_mut(40) {
        tx.write_chunk(RecordKind::Contacts, chunk).await.unwrap();
    }
    for chunk in surveys.chunks_mut(40) {
        tx.write_chunk(RecordKind::Surveys, chunk).await.unwrap();
    }
    finish(tx).await;
}

/// Imports every simulated contact and survey response.
async fn import_simulated(store: &Store, collected: &Collected) {
    let contacts = collected.contacts.iter().cloned().map(Row::from_contact);
    let surveys = collected.surveys.iter().map(Row::from_survey);
    import(store, contacts.collect(), surveys.collect()).await;
}

async fn finish(tx: ImportTx) {
    tx.finish(ImportBatchRecord {
        id: 0,
        kind: "contacts".into(),
        file_name: "test".into(),
        checksum: String::new(),
        actor: "test".into(),
        started_ms: 0,
        finished_ms: 0,
        n_inserted: 0,
        n_updated: 0,
        n_unchanged: 0,
        n_rejected: 0,
    })
    .await
    .unwrap();
}

fn rows_of(table: &ContactTable) -> Vec<ContactFacts> {
    let mut rows: Vec<ContactFacts> = (0..table.len()).filter_map(|i| table.row(i)).collect();
    rows.sort_by(|a, b| (&a.source_id, a.arrival_ms).cmp(&(&b.source_id, b.arrival_ms)));
    rows
}

/// How many contacts a read of the whole year from the packed days gives.
async fn contacts_read(store: &Store, with_customers: bool) -> StoreResult<usize> {
    let table = store
        .contact_table(DEFAULT_TENANT, WHOLE, with_customers)
        .await?;
    Ok(table.len())
}

/// Both ways of reading agree, over the whole time and day by day.
async fn assert_packed_days_match_rows(store: &Store, days: impl Iterator<Item = i64>) {
    let packed = store
        .contact_table(DEFAULT_TENANT, WHOLE, true)
        .await
        .unwrap();
    let rows = store
        .contact_table_from_rows(DEFAULT_TENANT, WHOLE, true)
        .await
        .unwrap();
    assert!(packed.len() > 100);
    assert_eq!(rows_of(&packed), rows_of(&rows));
    for day in days {
        // Half a day, so windows that cut a packed day are tested too.
        let window = (day * DAY_MS + DAY_MS / 2, (day + 1) * DAY_MS + DAY_MS / 2);
        let packed = store
            .contact_table(DEFAULT_TENANT, window, false)
            .await
            .unwrap();
        let rows = store
            .contact_table_from_rows(DEFAULT_TENANT, window, false)
            .await
            .unwrap();
        assert_eq!(
            rows_of(&packed),
            rows_of(&rows),
            "window from day {day} noon"
        );
    }
    let answers = |mut a: Vec<AnswerFacts>| {
        sort_answers(&mut a);
        a
    };
    let packed = store
        .survey_answers(DEFAULT_TENANT, WHOLE, |_| true)
        .await
        .unwrap();
    let rows = store
        .survey_answers_from_rows(DEFAULT_TENANT, WHOLE)
        .await
        .unwrap();
    assert!(packed.0.len() > 100);
    // One question's answers: what reports of one survey definition read.
    let question = rows.0[0].question_id.clone();
    let asked = store
        .survey_answers(DEFAULT_TENANT, WHOLE, |q| q == question)
        .await
        .unwrap();
    let rows_asked: Vec<AnswerFacts> = rows
        .0
        .iter()
        .filter(|a| a.question_id == question)
        .cloned()
        .collect();
    assert!(!rows_asked.is_empty() && rows_asked.len() < rows.0.len());
    assert_eq!(answers(asked.0), answers(rows_asked));
    assert_eq!(answers(packed.0), answers(rows.0));
}

#[tokio::test]
async fn packed_days_hold_exactly_the_current_rows_after_revisions() {
    let collected = simulated();
    let first_day = utc_day(collected.contacts[0].arrival_ms);
    for store in stores::stores("packed_days").await {
        import_simulated(&store, &collected).await;
        assert_packed_days_match_rows(&store, first_day..first_day + 5).await;

        // Revisions: every 10th contact moves to the day before, every 7th
        // changes agent on its day, every 5th survey changes its first
        // answer, and every 9th loses its numeric answers.
        let mut revised = Vec::new();
        let mut moved = Vec::new();
        for (i, c) in collected.contacts.iter().enumerate() {
            let mut c = c.clone();
            if i % 10 == 0 {
                c.arrival_ms -= DAY_MS;
                moved.push((c.source_id.clone(), c.arrival_ms));
            } else if i % 7 == 0 {
                c.agent_id = Some("ag-revised".into());
            } else {
                continue;
            }
            revised.push(Row::from_contact(c));
        }
        let mut revised_surveys = Vec::new();
        for (i, s) in collected.surveys.iter().enumerate() {
            let mut s = s.clone();
            if i % 9 == 0 {
                s.answers.iter_mut().for_each(|a| a.value = None);
            } else if i % 5 == 0 {
                if let Some(a) = s.answers.iter_mut().find(|a| a.value.is_some()) {
                    a.value = Some(if a.value == Some(1) { 2 } else { 1 });
                }
            } else {
                continue;
            }
            revised_surveys.push(Row::from_survey(&s));
        }
        import(&store, revised, revised_surveys).await;
        assert_packed_days_match_rows(&store, first_day - 1..first_day + 5).await;

        // A moved contact is read on its new day only.
        let (id, arrival_ms) = &moved[3];
        let day = utc_day(*arrival_ms);
        let on = |day: i64| {
            let store = store.clone();
            async move {
                let window = (day * DAY_MS, (day + 1) * DAY_MS);
                let table = store
                    .contact_table(DEFAULT_TENANT, window, false)
                    .await
                    .unwrap();
                table.source_id.iter().filter(|s| s == id).count()
            }
        };
        assert_eq!(on(day).await, 1);
        assert_eq!(on(day + 1).await, 0);
        assert_eq!(
            contacts_read(&store, false).await.unwrap(),
            collected.contacts.len()
        );
    }
}

#[tokio::test]
async fn migrate_packs_the_days_of_rows_that_predate_packed_days_and_a_damaged_day_is_named() {
    let collected = simulated();
    let first_day = utc_day(collected.contacts[0].arrival_ms);
    for store in stores::stores("packed_migrate").await {
        import_simulated(&store, &collected).await;
        // As a database of the release before packed days: rows only, and
        // the tenant on the list migration 0012 makes.
        store.execute_raw("DELETE FROM contact_days").await.unwrap();
        store
            .execute_raw("DELETE FROM survey_answer_days")
            .await
            .unwrap();
        assert_eq!(contacts_read(&store, true).await.unwrap(), 0);
        store
            .execute_raw(&format!(
                "INSERT INTO packed_days_pending (tenant_id) VALUES ({DEFAULT_TENANT})"
            ))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        assert_packed_days_match_rows(&store, first_day..first_day + 5).await;
        let pending = store
            .execute_raw("DELETE FROM packed_days_pending")
            .await
            .unwrap();
        assert_eq!(pending, 0, "the tenant is off the pending list");

        store
            .execute_raw(&format!(
                "UPDATE contact_days SET packed = {} WHERE day = {first_day}",
                match store.backend_name() {
                    "postgres" => "'\\x00'::bytea",
                    _ => "X'00'",
                }
            ))
            .await
            .unwrap();
        match store.contact_table(DEFAULT_TENANT, WHOLE, true).await {
            Err(StoreError::Invalid(message)) => assert_eq!(
                message,
                format!("contact_days day {first_day}: packed day: not a packed day of this kind")
            ),
            other => panic!("expected a named error, got {:?}", other.map(|t| t.len())),
        }
    }
}

/// Migration 0015 packs every day of contacts again in the form with match
/// keys: days in the first form (tag MPC1), which the reader refuses, are
/// replaced from the rows.
#[tokio::test]
async fn days_packed_in_the_first_form_are_packed_again_on_migrate() {
    let collected = simulated();
    let first_day = utc_day(collected.contacts[0].arrival_ms);
    for store in stores::stores("packed_first_form").await {
        import_simulated(&store, &collected).await;
        let first_form = match store.backend_name() {
            "postgres" => "'MPC1'::bytea || substring(packed from 5)",
            _ => "CAST('MPC1' AS BLOB) || substr(packed, 5)",
        };
        store
            .execute_raw(&format!("UPDATE contact_days SET packed = {first_form}"))
            .await
            .unwrap();
        assert!(contacts_read(&store, true).await.is_err());
        // As a store migrated up to 0014: 0015 runs again.
        let rerun = store
            .execute_raw("DELETE FROM _sqlx_migrations WHERE version = 15")
            .await
            .unwrap();
        assert_eq!(rerun, 1);
        store.migrate().await.unwrap();
        assert_packed_days_match_rows(&store, first_day..first_day + 5).await;
        assert_eq!(
            contacts_read(&store, true).await.unwrap(),
            collected.contacts.len()
        );
    }
}

/// Per agent: the times of its states, and its schedule segments.
type ActivityTimes = std::collections::BTreeMap<String, (Vec<i64>, Vec<(i64, i64)>)>;

/// Agent states and schedules come back per agent in time order, exactly
/// the simulated records of the window (grouped and sorted here, the
/// second way), on every backend.
#[tokio::test]
async fn agent_activity_is_every_state_and_segment_of_the_window_in_time_order() {
    let config = ScenarioConfig {
        days: 4,
        agents: 12,
        ..ScenarioConfig::default()
    };
    let records = simulate_centre(&config, &mut Collected::default());
    let first_day = utc_day(records.states[0].at_ms);
    let window = ((first_day + 1) * DAY_MS, (first_day + 3) * DAY_MS);
    let mut expected: ActivityTimes = Default::default();
    for s in records
        .states
        .iter()
        .filter(|s| window.0 <= s.at_ms && s.at_ms < window.1)
    {
        expected
            .entry(s.agent_id.clone())
            .or_default()
            .0
            .push(s.at_ms);
    }
    for s in records
        .schedules
        .iter()
        .filter(|s| window.0 <= s.start_ms && s.start_ms < window.1)
    {
        let agent = expected.entry(s.agent_id.clone()).or_default();
        agent.1.push((s.start_ms, s.end_ms));
    }
    for (states, segments) in expected.values_mut() {
        states.sort();
        segments.sort();
    }
    assert!(expected.len() >= 10);
    for store in stores::stores("agent_activity").await {
        let mut states: Vec<Row> = records
            .states
            .iter()
            .map(|s| Row::from_state("sim", s))
            .collect();
        let mut schedules: Vec<Row> = records
            .schedules
            .iter()
            .map(|s| Row::from_schedule("sim", s))
            .collect();
        let mut tx = ImportTx::begin(&store, DEFAULT_TENANT).await.unwrap();
        tx.write_chunk(RecordKind::AgentStates, &mut states)
            .await
            .unwrap();
        tx.write_chunk(RecordKind::Schedules, &mut schedules)
            .await
            .unwrap();
        finish(tx).await;
        let activity = store
            .agent_activity(DEFAULT_TENANT, window.0, window.1)
            .await
            .unwrap();
        let read: ActivityTimes = activity
            .into_iter()
            .map(|(agent, a)| {
                let states = a.states.iter().map(|(at, _)| *at).collect();
                let segments = a
                    .schedule
                    .iter()
                    .map(|(from, to, _)| (*from, *to))
                    .collect();
                (agent, (states, segments))
            })
            .collect();
        assert_eq!(read, expected);
    }
}
