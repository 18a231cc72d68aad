//! The Anonymous Bank's February 1999 (real data, ../shared/data): importing
//! it and computing KPIs reproduces every figure of both tables in its
//! README, which were computed independently of Merit.

mod stores;

use jiff::civil::{Date, date};
use merit_domain::DEFAULT_TENANT;
use merit_domain::metrics::{Dimension, Figure};
use merit_import::{ImportFormat, ImportKind};
use merit_service::FixedClock;
use merit_service::ServiceError;
use merit_service::import::{ImportReport, ImportRequest, import_file};
use merit_service::metrics::{DrillRow, FigurePart, ReportRequest, Selected, drill, kpi_report};
use merit_store::Store;
use std::path::{Path, PathBuf};

const CLOCK: FixedClock = FixedClock(1_800_000_000_000);

fn february() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/anonymous-bank-1999-february/february.txt")
}

fn month(kpis: &[&str], dimensions: Vec<Dimension>) -> ReportRequest {
    period(date(1999, 2, 1), date(1999, 2, 28), kpis, dimensions)
}

fn period(from: Date, to: Date, kpis: &[&str], dimensions: Vec<Dimension>) -> ReportRequest {
    ReportRequest {
        from,
        to,
        dimensions,
        definitions: kpis
            .iter()
            .map(|k| Selected {
                name: (*k).into(),
                pinned: None,
            })
            .collect(),
        as_of_ms: None,
    }
}

async fn total(store: &Store, kpi: &str) -> Figure {
    let report = kpi_report(store, &CLOCK, DEFAULT_TENANT, &month(&[kpi], vec![]))
        .await
        .unwrap();
    report.total.figures[0].clone()
}

async fn rows(store: &Store, kpi: &str) -> Vec<DrillRow> {
    drill(
        store,
        &CLOCK,
        DEFAULT_TENANT,
        &month(&[kpi], vec![]),
        &[],
        FigurePart::All,
    )
    .await
    .unwrap()
}

/// Imports `path` as Anonymous Bank contacts (local times in `time_zone`,
/// default the centre's).
async fn import_bank(
    store: &Store,
    path: &Path,
    time_zone: Option<&str>,
) -> Result<ImportReport, ServiceError> {
    let request = ImportRequest {
        tenant: DEFAULT_TENANT,
        actor: "test",
        kind: ImportKind::Contacts,
        format: ImportFormat::AnonymousBank,
        time_zone,
        mapping: None,
        cdr_layout: None,
        display_name: None,
        path,
        progress: &|_| {},
        alone: false,
    };
    import_file(store, &CLOCK, request).await
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[tokio::test]
async fn february_reproduces_the_readme_figures() {
    for store in stores::stores("anonymous_bank").await {
        merit_service::centre::configure_centre(
            &store,
            &CLOCK,
            DEFAULT_TENANT,
            "test",
            "Anonymous Bank",
            "Asia/Jerusalem",
        )
        .await
        .unwrap();
        let path = february();
        let report = import_bank(&store, &path, None).await.unwrap();
        // Records / PHANTOM: 33,344 / 278, all others kept.
        let phantom: u64 = report.skipped.values().sum();
        assert_eq!(
            (report.inserted, phantom, report.rejected),
            (33_066, 278, 0)
        );
        assert_eq!(report.inserted + phantom, 33_344);
        // 25 rows have vru_exit before vru_entry; the 23 that are not PHANTOM
        // are kept and listed.
        assert_eq!(report.warnings.len(), 23);

        // AGENT 27,162; HANG 5,904 = 3,963 queue abandons + 1,941 menu abandons.
        let answered = total(&store, "answered").await.numerator;
        let menu = total(&store, "menu_abandons").await.numerator;
        let short = total(&store, "short_abandons").await.numerator;
        let abandon_wait = total(&store, "abandon_wait").await;
        let queue_hang = abandon_wait.denominator.unwrap();
        assert_eq!(
            (answered, queue_hang, menu, short),
            (27_162, 3_963, 1_941, 274)
        );
        assert_eq!(queue_hang + menu, 5_904);

        // Served without queueing 13,066; queued 18,059; abandoned 21.945 % of queued.
        let served = rows(&store, "answered").await;
        let unqueued = served.iter().filter(|r| r.wait_ms.is_none()).count() as i64;
        assert_eq!(unqueued, 13_066);
        let queued = answered - unqueued + queue_hang;
        assert_eq!(queued, 18_059);
        assert_eq!(round(queue_hang as f64 * 100.0 / queued as f64, 3), 21.945);

        // AGENT calls with NO_SERVER: 491.
        let by_agent = kpi_report(
            &store,
            &CLOCK,
            DEFAULT_TENANT,
            &month(&["answered"], vec![Dimension::Agent]),
        )
        .await
        .unwrap();
        let no_server = by_agent
            .rows
            .iter()
            .find(|r| r.group == ["(none)"])
            .unwrap();
        assert_eq!(no_server.figures[0].numerator, 491);

        // Service time over AGENT calls: mean 176.353, sample SD 217.138,
        // median 107 s, 6.697 % under 10 s.
        let talk = total(&store, "talk_time").await;
        assert_eq!(talk.denominator, Some(27_162));
        assert_eq!(round(talk.value.unwrap(), 3), 176.353);
        let mut service_s: Vec<f64> = rows(&store, "talk_time")
            .await
            .iter()
            .map(|r| r.numerator as f64 / 1000.0)
            .collect();
        assert_eq!(service_s.len(), 27_162);
        let n = service_s.len() as f64;
        let mean = service_s.iter().sum::<f64>() / n;
        let sd = (service_s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert_eq!(round(sd, 3), 217.138);
        service_s.sort_by(f64::total_cmp);
        assert_eq!(service_s[service_s.len().div_ceil(2) - 1], 107.0);
        let under_10 = service_s.iter().filter(|&&s| s < 10.0).count();
        assert_eq!(round(under_10 as f64 * 100.0 / n, 3), 6.697);

        // Mean queue wait of served calls 40.774 s; of queue abandoners 65.530 s.
        assert_eq!(round(total(&store, "asa").await.value.unwrap(), 3), 40.774);
        assert_eq!(round(abandon_wait.value.unwrap(), 3), 65.530);
        // Served within 20 s, % of served: 59.675 %.
        let within_of_served = total(&store, "service_level_answered_only").await;
        assert_eq!(round(within_of_served.value.unwrap(), 3), 59.675);

        // 28 distinct dates.
        let by_day = kpi_report(
            &store,
            &CLOCK,
            DEFAULT_TENANT,
            &month(&["answered"], vec![Dimension::Day]),
        )
        .await
        .unwrap();
        assert_eq!(by_day.rows.len(), 28);

        // Default definitions: offered 30,851 = 27,162 + 3,689; SL 52.540 %
        // (16,209 ÷ 30,851); abandon rate 11.957 %.
        let offered = total(&store, "offered").await.numerator;
        assert_eq!(offered, 30_851);
        assert_eq!(total(&store, "queue_abandons").await.numerator, 3_689);
        let sl = total(&store, "service_level").await;
        assert_eq!((sl.numerator, sl.denominator), (16_209, Some(30_851)));
        assert_eq!(round(sl.value.unwrap(), 3), 52.540);
        assert_eq!(sl.versions, [1]);
        assert_eq!(
            round(total(&store, "abandon_rate").await.value.unwrap(), 3),
            11.957
        );
    }
}

#[tokio::test]
async fn bad_rows_are_reported_with_their_line_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("march.txt");
    let header = "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver";
    let lines = [
        header,
        // 2: good, served after 30 s in the queue.
        "AA0101\t1\t0\t0\tPS\t990301\t7:00:00\t7:00:10\t10\t7:00:10\t7:00:40\t30\tAGENT\t7:00:40\t7:02:00\t80\tDORIT",
        // 3: spaces instead of tabs.
        "AA0101 2 0 0 PS 990301 7:01:00 7:01:05 5 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER",
        // 4: a code the documentation does not list: accepted.
        "AA0101\t3\t0\t0\tZZ\t990301\t7:02:00\t7:02:05\t5\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        // 5: a spreadsheet artefact in call_id.
        "AA0101\t3.45E+04\t0\t0\tPS\t990301\t7:03:00\t7:03:05\t5\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        // 6: an unparsable time.
        "AA0101\t5\t0\t0\tPS\t990301\t7:61:00\t7:03:05\t5\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        // 7: an unknown outcome.
        "AA0101\t6\t0\t0\tPS\t990301\t7:04:00\t7:04:05\t5\t0:00:00\t0:00:00\t0\tBUSY\t0:00:00\t0:00:00\t0\tNO_SERVER",
        // 8: crosses midnight: queued from 23:59:50 to 0:00:20 the next day.
        "AA0101\t7\t5\t0\tPS\t990301\t23:59:40\t23:59:50\t10\t23:59:50\t0:00:20\t30\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    ];
    std::fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();
    for store in stores::stores("anonymous_bank_bad").await {
        let report = import_bank(&store, &path, Some("Asia/Jerusalem"))
            .await
            .unwrap();
        let problems: Vec<(u64, &str)> = report
            .problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            problems,
            [(3, "row"), (5, "call_id"), (6, "vru_entry"), (7, "outcome")]
        );
        assert_eq!(report.inserted, 3);
        let march = period(
            date(1999, 3, 1),
            date(1999, 3, 1),
            &["abandon_wait"],
            vec![],
        );
        let wait = drill(&store, &CLOCK, DEFAULT_TENANT, &march, &[], FigurePart::All)
            .await
            .unwrap();
        // The midnight call waited 30 s, not −23 h 59 min 30 s.
        assert!(wait.iter().any(|r| r.wait_ms == Some(30_000)));
    }
}

#[tokio::test]
async fn a_file_in_another_format_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    std::fs::write(
        &path,
        "source_id,channel,arrival\nc1,voice_inbound,2026-08-03T08:00:00Z\n",
    )
    .unwrap();
    for store in stores::stores("anonymous_bank_refused").await {
        let error = import_bank(&store, &path, None).await.unwrap_err();
        assert!(
            error.to_string().contains("not the Anonymous Bank format"),
            "{error}"
        );
        assert!(
            store
                .import_batches(DEFAULT_TENANT)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
