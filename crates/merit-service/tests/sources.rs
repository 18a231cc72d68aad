//! Real sources end to end: a realistic file of each format is imported and
//! the metrics engine's figures match counts and sums worked out by hand in
//! each test from the file's own lines, on SQLite and PostgreSQL.

mod stores;

use jiff::civil::{Date, date};
use merit_domain::DEFAULT_TENANT;
use merit_domain::metrics::Figure;
use merit_import::mapped::Mapping;
use merit_import::{ImportFormat, ImportKind};
use merit_service::FixedClock;
use merit_service::import::{ImportReport, ImportRequest, import_file};
use merit_service::metrics::{ReportRequest, Selected, kpi_report};
use merit_store::{RecordKind, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const CLOCK: FixedClock = FixedClock(1_800_000_000_000);

async fn centre(store: &Store) {
    merit_service::centre::configure_centre(store, &CLOCK, DEFAULT_TENANT, "test", "Test", "UTC")
        .await
        .unwrap();
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn import(
    store: &Store,
    kind: ImportKind,
    format: ImportFormat,
    mapping: Option<&str>,
    path: &Path,
) -> ImportReport {
    let request = ImportRequest {
        tenant: DEFAULT_TENANT,
        actor: "test",
        kind,
        format,
        time_zone: None,
        mapping: mapping.map(|m| Arc::new(Mapping::parse(m).unwrap())),
        cdr_layout: None,
        display_name: None,
        path,
        progress: &|_| {},
        alone: false,
    };
    import_file(store, &CLOCK, request).await.unwrap()
}

/// Imports `text` as a file called `name`.
async fn import_text(
    store: &Store,
    kind: ImportKind,
    format: ImportFormat,
    mapping: Option<&str>,
    name: &str,
    text: &str,
) -> ImportReport {
    let dir = tempfile::tempdir().unwrap();
    import(store, kind, format, mapping, &write(dir.path(), name, text)).await
}

/// The whole-centre figure of each KPI over `day`, by its default definition.
async fn figures(store: &Store, day: Date, kpis: &[&str]) -> Vec<Figure> {
    let request = ReportRequest {
        from: day,
        to: day,
        dimensions: vec![],
        definitions: kpis
            .iter()
            .map(|k| Selected {
                name: (*k).into(),
                pinned: None,
            })
            .collect(),
        as_of_ms: None,
    };
    kpi_report(store, &CLOCK, DEFAULT_TENANT, &request)
        .await
        .unwrap()
        .total
        .figures
}

/// (numerator, denominator) of each figure.
async fn parts(store: &Store, day: Date, kpis: &[&str]) -> Vec<(i64, Option<i64>)> {
    figures(store, day, kpis)
        .await
        .iter()
        .map(|f| (f.numerator, f.denominator))
        .collect()
}

// 2026-09-21 14:13:20 UTC and on. Eight calls and two members' states:
// 1 answered by SIP/1002 after 12 s, talk 180 s;
// 2 abandoned after 45 s;
// 3 answered by a static member (no login events) after 25 s, talk 60 s;
// 4 timed out of the queue after 300 s (overflow);
// 5 refused: the sales queue had no members (JOINEMPTY);
// 6 answered after 8 s by SIP/1001, talk 95 s, then transferred;
// 7 abandoned after 3 s (short);
// 8 left with a key after 20 s (callback).
const QUEUE_LOG: &str = "\
1790000000|NONE|support|SIP/1001|ADDMEMBER|
1790000005|NONE|support|SIP/1002|ADDMEMBER|
1790000100|1790000100.1|support|NONE|ENTERQUEUE||5551001|1
1790000100|1790000100.1|support|SIP/1001|RINGNOANSWER|15000
1790000112|1790000100.1|support|SIP/1002|CONNECT|12|1790000112.2|3
1790000200|1790000200.3|support|NONE|ENTERQUEUE||5551002|1
1790000245|1790000200.3|support|NONE|ABANDON|1|1|45
1790000292|1790000100.1|support|SIP/1002|COMPLETECALLER|12|180|1
1790000300|1790000300.4|support|NONE|ENTERQUEUE||5551003|1
1790000325|1790000300.4|support|PJSIP/2001|CONNECT|25|1790000325.5|2
1790000385|1790000300.4|support|PJSIP/2001|COMPLETEAGENT|25|60|1
1790000400|1790000400.6|support|NONE|ENTERQUEUE||5551004|1
1790000500|NONE|NONE|SIP/1001|PAUSE|lunch
1790000700|1790000400.6|support|NONE|EXITWITHTIMEOUT|1|1|300
1790000800|1790000800.7|sales|NONE|JOINEMPTY|
1790000900|1790000900.8|support|NONE|ENTERQUEUE||5551005|1
1790000908|1790000900.8|support|SIP/1002|CONNECT|8|1790000908.9|2
1790001000|1790001000.10|support|NONE|ENTERQUEUE||5551006|1
1790001003|1790000900.8|support|SIP/1002|TRANSFER|2000|from-internal|8|95|1
1790001003|1790001000.10|support|NONE|ABANDON|1|1|3
1790001100|1790001100.11|support|NONE|ENTERQUEUE||5551007|1
1790001120|1790001100.11|support|NONE|EXITWITHKEY|1|1|1|20
1790002300|NONE|NONE|SIP/1001|UNPAUSE|
1790003000|NONE|support|SIP/1001|REMOVEMEMBER|
1790003000|NONE|support|SIP/1002|REMOVEMEMBER|
";

const DAY: Date = date(2026, 9, 21);

#[tokio::test]
async fn queue_log_figures_match_the_events() {
    for store in stores::stores("queue_log").await {
        centre(&store).await;
        let report = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::AsteriskQueueLog,
            None,
            "queue_log",
            QUEUE_LOG,
        )
        .await;
        assert_eq!(report.rejected, 0, "{:?}", report.problems);
        assert_eq!(report.records.get("contacts"), Some(&8));
        // SIP/1001: ready, not ready (lunch), ready, logged out; SIP/1002: ready, logged out.
        assert_eq!(report.records.get("agent states"), Some(&6));
        assert_eq!(
            store
                .count_current(DEFAULT_TENANT, RecordKind::AgentStates)
                .await
                .unwrap(),
            6
        );
        let got = parts(
            &store,
            DAY,
            &[
                "answered",
                "queue_abandons",
                "short_abandons",
                "offered",
                "overflows",
                "refused",
                "service_level",
                "asa",
                "aht",
                "transfer_rate",
                "abandon_wait",
            ],
        )
        .await;
        let (answered, abandons, short) = (3, 1, 1);
        let offered = answered + abandons; // callbacks and overflows not offered by default
        let within_20_s = 2; // waits 12 and 8; 25 is over
        assert_eq!(
            got,
            vec![
                (answered, None),
                (abandons, None),
                (short, None),
                (offered, None),
                (1, None),
                (1, None),
                (within_20_s, Some(offered)),
                ((12 + 25 + 8) * 1000, Some(3)),
                ((180 + 60 + 95) * 1000, Some(3)),
                (1, Some(3)),
                ((45 + 3) * 1000, Some(2)),
            ]
        );
        // Importing the same file again changes nothing.
        let again = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::AsteriskQueueLog,
            None,
            "queue_log",
            QUEUE_LOG,
        )
        .await;
        assert_eq!((again.inserted, again.unchanged), (0, 14));
    }
}

/// Splits QUEUE_LOG after `lines` lines: call 1 is cut between the files.
fn rotated(dir: &Path, lines: usize) -> (PathBuf, PathBuf) {
    let all: Vec<&str> = QUEUE_LOG.lines().collect();
    let first = write(dir, "queue_log.1", &(all[..lines].join("\n") + "\n"));
    let second = write(dir, "queue_log", &(all[lines..].join("\n") + "\n"));
    (first, second)
}

#[tokio::test]
async fn a_call_split_by_log_rotation_comes_out_right_in_either_order() {
    for older_first in [true, false] {
        for store in stores::stores(&format!("rotation_{older_first}")).await {
            centre(&store).await;
            let dir = tempfile::tempdir().unwrap();
            // The first 6 lines end after call 1's CONNECT and call 2's ENTERQUEUE.
            let (older, newer) = rotated(dir.path(), 6);
            let (a, b) = if older_first {
                (older, newer)
            } else {
                (newer, older)
            };
            let queue_log = |path| {
                import(
                    &store,
                    ImportKind::Contacts,
                    ImportFormat::AsteriskQueueLog,
                    None,
                    path,
                )
            };
            let first = queue_log(&a).await;
            // Calls 1 and 2 are incomplete in either file alone: reported, not invented.
            let contacts = |r: &ImportReport| r.records.get("contacts").copied().unwrap_or(0);
            assert_eq!(contacts(&first), if older_first { 0 } else { 6 });
            let unfinished: Vec<&String> = first
                .notices
                .iter()
                .filter(|n| n.contains("kept aside"))
                .collect();
            assert_eq!(unfinished.len(), 2, "{:?}", first.notices);
            for call in ["call 1790000100.1 ", "call 1790000200.3 "] {
                assert!(
                    unfinished.iter().any(|n| n.contains(call)),
                    "{unfinished:?}"
                );
            }
            let second = queue_log(&b).await;
            assert!(
                !second.notices.iter().any(|n| n.contains("kept aside")),
                "{:?}",
                second.notices
            );
            assert_eq!(contacts(&first) + contacts(&second), 8);
            // Call 1: wait 12 s, talk 180 s; call 2: abandoned after 45 s,
            // as if the file had never been cut.
            let got = parts(&store, DAY, &["answered", "asa", "aht", "abandon_wait"]).await;
            assert_eq!(
                got,
                vec![
                    (3, None),
                    ((12 + 25 + 8) * 1000, Some(3)),
                    ((180 + 60 + 95) * 1000, Some(3)),
                    ((45 + 3) * 1000, Some(2)),
                ]
            );
        }
    }
}

// Master.csv (cdr_csv order, with uniqueid and userfield), local times:
// a queue call answered after 20 s ringing (talk 180 s), a direct call
// answered after 5 s (talk 60 s), a caller who gave up after 30 s, one
// after 3 s, a busy line and a failed call.
const CDR_CSV: &str = r#""","5551001","600","from-pstn","""Ann Smith"" <5551001>","SIP/trunk-00000001","SIP/1001-00000002","Queue","support,t,,,300","2026-09-21 09:00:00","2026-09-21 09:00:20","2026-09-21 09:03:20",200,180,"ANSWERED","DOCUMENTATION","1790000000.1",""
"","","1001","from-pstn","""Bob"" <5551002>","SIP/trunk-00000003","SIP/1001-00000004","Dial","SIP/1001,30","2026-09-21 09:10:00","2026-09-21 09:10:05","2026-09-21 09:11:05",65,60,"ANSWERED","DOCUMENTATION","1790000600.3",""
"","5551003","600","from-pstn","""5551003"" <5551003>","SIP/trunk-00000005","","Queue","support","2026-09-21 09:20:00","","2026-09-21 09:20:30",30,0,"NO ANSWER","DOCUMENTATION","1790001200.5",""
"","5551004","600","from-pstn","<5551004>","SIP/trunk-00000006","","Queue","support","2026-09-21 09:21:00","","2026-09-21 09:21:03",3,0,"NO ANSWER","DOCUMENTATION","1790001260.6",""
"","5551005","1002","from-pstn","","SIP/trunk-00000007","SIP/1002-00000008","Dial","SIP/1002","2026-09-21 09:30:00","","2026-09-21 09:30:00",0,0,"BUSY","DOCUMENTATION","1790001800.7",""
"","5551006","1003","from-pstn","","SIP/trunk-00000009","","Dial","SIP/1003","2026-09-21 09:40:00","","2026-09-21 09:40:01",1,0,"FAILED","DOCUMENTATION","1790002400.9",""
"#;

#[tokio::test]
async fn cdr_figures_match_the_records() {
    for store in stores::stores("cdr").await {
        centre(&store).await;
        let report = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::AsteriskCdr,
            None,
            "Master.csv",
            CDR_CSV,
        )
        .await;
        assert_eq!(
            (report.inserted, report.rejected),
            (6, 0),
            "{:?}",
            report.problems
        );
        let got = parts(
            &store,
            DAY,
            &[
                "answered",
                "queue_abandons",
                "short_abandons",
                "offered",
                "refused",
                "service_level",
                "asa",
                "aht",
            ],
        )
        .await;
        // Ring (wait) = duration − billsec: 20 s and 5 s, both within 20 s.
        assert_eq!(
            got,
            vec![
                (2, None),
                (1, None),
                (1, None),
                (3, None),
                (2, None),
                (2, Some(3)),
                ((20 + 5) * 1000, Some(2)),
                ((180 + 60) * 1000, Some(2)),
            ]
        );
    }
}

// Contact records as a stream delivers them: one per line, two run
// together, an earlier copy of C1 delivered again, a task and a caller who
// hung up in the contact flow.
const CONNECT: &str = r#"{"AWSAccountId":"1","ContactId":"C1","Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-09-21T10:00:00Z","DisconnectTimestamp":"2026-09-21T10:05:00Z","DisconnectReason":"CUSTOMER_DISCONNECT","LastUpdateTimestamp":"2026-09-21T10:07:00Z","CustomerEndpoint":{"Address":"+15551001","Type":"TELEPHONE_NUMBER"},"Queue":{"Name":"support","EnqueueTimestamp":"2026-09-21T10:00:00Z","DequeueTimestamp":"2026-09-21T10:00:30Z","Duration":30},"Agent":{"Username":"ann","ConnectedToAgentTimestamp":"2026-09-21T10:00:30Z","AgentInteractionDuration":240,"CustomerHoldDuration":30,"NumberOfHolds":1,"AfterContactWorkDuration":60},"Recording":{"Location":"bucket/c1.wav"},"Attributes":{"x":"y"}}
{"ContactId":"C2","Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-09-21T10:01:00Z","DisconnectTimestamp":"2026-09-21T10:01:40Z","DisconnectReason":"CUSTOMER_DISCONNECT","LastUpdateTimestamp":"2026-09-21T10:02:00Z","Queue":{"Name":"support","EnqueueTimestamp":"2026-09-21T10:01:00Z","DequeueTimestamp":"2026-09-21T10:01:40Z","Duration":40},"Agent":null}{"ContactId":"C3","NextContactId":"C4","Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-09-21T10:02:00Z","DisconnectTimestamp":"2026-09-21T10:04:00Z","DisconnectReason":"AGENT_DISCONNECT","LastUpdateTimestamp":"2026-09-21T10:05:00Z","Queue":{"Name":"support","EnqueueTimestamp":"2026-09-21T10:02:00Z","Duration":10},"Agent":{"Username":"bob","ConnectedToAgentTimestamp":"2026-09-21T10:02:10Z","AgentInteractionDuration":100,"CustomerHoldDuration":0,"AfterContactWorkDuration":20}}
{"ContactId":"C4","PreviousContactId":"C3","InitialContactId":"C3","Channel":"VOICE","InitiationMethod":"TRANSFER","InitiationTimestamp":"2026-09-21T10:03:50Z","DisconnectTimestamp":"2026-09-21T10:05:00Z","LastUpdateTimestamp":"2026-09-21T10:06:00Z","Queue":{"Name":"billing","EnqueueTimestamp":"2026-09-21T10:03:50Z","Duration":5},"Agent":{"Username":"cat","ConnectedToAgentTimestamp":"2026-09-21T10:03:55Z","AgentInteractionDuration":50}}
{"ContactId":"C1","Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-09-21T10:00:00Z","DisconnectTimestamp":"2026-09-21T10:05:00Z","LastUpdateTimestamp":"2026-09-21T10:05:00Z","Queue":{"Name":"support","EnqueueTimestamp":"2026-09-21T10:00:00Z"},"Agent":{"Username":"ann","ConnectedToAgentTimestamp":"2026-09-21T10:00:30Z","AgentInteractionDuration":200}}
{"ContactId":"C5","Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-09-21T10:06:00Z","DisconnectTimestamp":"2026-09-21T10:06:45Z","DisconnectReason":"CUSTOMER_DISCONNECT","LastUpdateTimestamp":"2026-09-21T10:07:00Z"}
{"ContactId":"T1","Channel":"TASK","InitiationMethod":"API","InitiationTimestamp":"2026-09-21T10:07:00Z","DisconnectTimestamp":"2026-09-21T10:08:00Z"}
"#;

#[tokio::test]
async fn amazon_connect_figures_match_the_records() {
    for store in stores::stores("amazon_connect").await {
        centre(&store).await;
        let report = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::AmazonConnect,
            None,
            "ctr.json",
            CONNECT,
        )
        .await;
        assert_eq!(
            (report.inserted, report.rejected),
            (5, 0),
            "{:?}",
            report.problems
        );
        assert_eq!(
            report.skipped.values().sum::<u64>(),
            2,
            "{:?}",
            report.skipped
        );
        let got = parts(
            &store,
            DAY,
            &[
                "answered",
                "queue_abandons",
                "menu_abandons",
                "offered",
                "asa",
                "aht",
                "hold_time",
                "transfer_rate",
            ],
        )
        .await;
        // C1 (the later copy): wait 30, talk 240 + hold 30, ACW 60;
        // C3: wait 10, talk 100, ACW 20, transferred; C4: wait 5, talk 50.
        assert_eq!(
            got,
            vec![
                (3, None),
                (1, None),
                (1, None),
                (4, None),
                ((30 + 10 + 5) * 1000, Some(3)),
                (((240 + 30 + 60) + (100 + 20) + 50) * 1000, Some(3)),
                (30 * 1000, Some(3)),
                (1, Some(3)),
            ]
        );
    }
}

// A one-row-per-call spreadsheet export; satisfaction is a 1-5 column.
const SPREADSHEET: &str = "\
Call Id,Agent,Date,Time,Topic,Answered (Y/N),Resolved,Speed of answer in seconds,AvgTalkDuration,Satisfaction rating
ID0001,Diane,2021-01-01,9:12:58,Contract related,Y,Y,109,00:02:23,3
ID0002,Becky,2021-01-01,9:12:58,Technical Support,Y,N,70,00:04:02,3
ID0003,Stewart,2021-01-01,9:47:31,Payment related,Y,Y,10,00:02:11,3
ID0004,Greg,2021-01-01,9:47:31,Contract related,Y,Y,53,00:00:37,2
ID0005,Becky,2021-01-01,10:00:29,Payment related,Y,Y,95,00:01:00,3
ID0006,Becky,2021-01-01,10:00:29,Contract related,N,N,,,
ID0007,Jim,2021-01-01,10:11:16,Streaming,Y,Y,14,00:02:29,5
ID0008,Diane,2021-01-01,10:11:16,Technical Support,Y,Y,32,00:04:26,5
ID0009,Martha,2021-01-01,10:11:16,Streaming,N,N,,,
ID0010,Becky,2021-01-01,10:11:16,Payment related,Y,Y,8,00:06:00,4
";

const SPREADSHEET_MAPPING: &str = r#"
source_system = "spreadsheet"
duration = "seconds"

[contact]
source_id = "Call Id"
agent = "Agent"
date = "Date"
time = "Time"
contact_type = "Topic"
answered = "Answered (Y/N)"
resolved = "Resolved"
wait = "Speed of answer in seconds"
talk = { column = "AvgTalkDuration", unit = "hh:mm:ss" }
survey = [{ column = "Satisfaction rating", question = "satisfied_with_answers", scale = "1-5" }]
"#;

#[tokio::test]
async fn a_spreadsheet_export_through_a_mapping() {
    for store in stores::stores("mapped").await {
        centre(&store).await;
        let report = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::Mapped,
            Some(SPREADSHEET_MAPPING),
            "calls.csv",
            SPREADSHEET,
        )
        .await;
        assert_eq!(report.rejected, 0, "{:?}", report.problems);
        assert_eq!(report.records.get("contacts"), Some(&10));
        assert_eq!(report.records.get("survey responses"), Some(&8));
        let day = date(2021, 1, 1);
        let got = parts(
            &store,
            day,
            &[
                "answered",
                "offered",
                "abandon_rate",
                "asa",
                "talk_time",
                "csat",
                "csat_mean",
            ],
        )
        .await;
        // ASA over the 8 answered calls only: the blank speed of answer of
        // the 2 unanswered calls is not 0 s.
        let asa_s = 109 + 70 + 10 + 53 + 95 + 14 + 32 + 8;
        let talk_s = 143 + 242 + 131 + 37 + 60 + 149 + 266 + 360;
        // Ratings 3,3,3,2,3,5,5,4: top-two-box 3 of 8; mean 28 / 8.
        assert_eq!(
            got,
            vec![
                (8, None),
                (10, None),
                (2, Some(10)),
                (asa_s * 1000, Some(8)),
                (talk_s * 1000, Some(8)),
                (3, Some(8)),
                (28, Some(8)),
            ]
        );
    }
}

// A survey tool's export about the Connect contacts above: one row per
// answer, and the same survey as one row per response (JSON Lines).
const SURVEY_ANSWERS: &str = "\
response,contact,submitted,question,answer,scale
R1,C1,2026-09-21 10:30:00,satisfied_with_answers,5,1-5
R1,C1,2026-09-21 10:30:00,recommend,9,0-10
R1,C1,2026-09-21 10:30:00,resolved,yes,yes_no
R2,C3,2026-09-21 10:40:00,satisfied_with_answers,2,1-5
R2,C3,2026-09-21 10:40:00,recommend,6,0-10
R2,C3,2026-09-21 10:40:00,resolved,no,yes_no
R3,C9,2026-09-21 10:50:00,satisfied_with_answers,4,1-5
";

const SURVEY_LONG_MAPPING: &str = r#"
source_system = "survey-tool"

[survey]
source_id = "response"
contact = "contact"
contact_source_system = "amazon-connect"
answered_at = "submitted"
question = "question"
value = "answer"
scale = "scale"
"#;

const SURVEY_RESPONSES: &str = r#"{"id": "R4", "contact": "C4", "at": "2026-09-21T11:00:00Z", "csat": 4, "nps": 10, "comment": "quick"}
{"id": "R5", "contact": "C-unknown", "at": "2026-09-21T11:05:00Z", "csat": 1}
"#;

const SURVEY_WIDE_MAPPING: &str = r#"
[survey]
source_id = "id"
contact = "contact"
contact_source_system = "amazon-connect"
answered_at = "at"
questions = [
  { column = "csat", question = "satisfied_with_answers", scale = "1-5" },
  { column = "nps", question = "recommend", scale = "0-10" },
  { column = "comment", question = "comment", scale = "text" },
]
"#;

#[tokio::test]
async fn survey_exports_link_to_their_contacts_and_keep_the_unmatched() {
    for store in stores::stores("survey_exports").await {
        centre(&store).await;
        let contacts = ImportKind::Contacts;
        import_text(
            &store,
            contacts,
            ImportFormat::AmazonConnect,
            None,
            "ctr.json",
            CONNECT,
        )
        .await;
        let surveys = ImportKind::Surveys;
        let mapped = ImportFormat::Mapped;
        let long = Some(SURVEY_LONG_MAPPING);
        let report =
            import_text(&store, surveys, mapped, long, "answers.csv", SURVEY_ANSWERS).await;
        assert_eq!(
            (report.inserted, report.rejected),
            (3, 0),
            "{:?}",
            report.problems
        );
        // R3 is about C9, which the store does not have: kept and reported.
        assert_eq!(report.unmatched_surveys, 1);
        assert!(
            report.notices.iter().any(|n| n.contains("R3 -> C9")),
            "{:?}",
            report.notices
        );
        let wide = Some(SURVEY_WIDE_MAPPING);
        let report = import_text(
            &store,
            surveys,
            mapped,
            wide,
            "responses.jsonl",
            SURVEY_RESPONSES,
        )
        .await;
        assert_eq!((report.inserted, report.unmatched_surveys), (2, 1));
        // CSAT answers 5, 2, 4 (R3), 4 (R4), 1 (R5): top-two-box 3 of 5,
        // mean 16 / 5. NPS: 9 and 10 promoters, 6 a detractor, of 3.
        // FCR by survey: 1 yes of 2.
        let got = parts(&store, DAY, &["csat", "csat_mean", "nps", "fcr_survey"]).await;
        assert_eq!(got[..2], [(3, Some(5)), (16, Some(5))]);
        assert_eq!(got[2].1, Some(3));
        assert_eq!(got[3], (1, Some(2)));
        let nps = figures(&store, DAY, &["nps"]).await[0].value.unwrap();
        assert!((nps - (200.0 / 3.0 - 100.0 / 3.0)).abs() < 1e-9, "{nps}");
    }
}

#[tokio::test]
async fn agent_names_are_matched_or_created_as_the_mapping_says() {
    for store in stores::stores("agent_names").await {
        centre(&store).await;
        let org = "record,id,name,site_id,time_zone,hire_date\n\
                   site,main,Main,,UTC,\n\
                   agent,becky-1,Becky,main,,2020-06-01\n";
        import_text(
            &store,
            ImportKind::Organisation,
            ImportFormat::Native,
            None,
            "org.csv",
            org,
        )
        .await;
        let calls = ImportKind::Contacts;
        let mapped = ImportFormat::Mapped;
        // "match": Becky is becky-1; the other names are row problems.
        let matching = SPREADSHEET_MAPPING.replace("[contact]", "agents = \"match\"\n[contact]");
        let report = import_text(
            &store,
            calls,
            mapped,
            Some(&matching),
            "calls.csv",
            SPREADSHEET,
        )
        .await;
        assert_eq!(
            (report.inserted, report.rejected),
            (4 + 3, 6),
            "{:?}",
            report.problems
        );
        assert!(
            report.problems[0]
                .reason
                .contains("\"Diane\" is the name of no agent")
        );
        // "create": the others become agents of site main, hired on their first day.
        let creating = SPREADSHEET_MAPPING.replace(
            "[contact]",
            "agents = \"create\"\nagent_site = \"main\"\n[contact]",
        );
        let report = import_text(
            &store,
            calls,
            mapped,
            Some(&creating),
            "calls.csv",
            SPREADSHEET,
        )
        .await;
        assert_eq!(report.rejected, 0, "{:?}", report.problems);
        assert!(
            report.notices.iter().any(|n| n
                == "created 5 agents from names in the file: diane, stewart, greg, jim, martha"),
            "{:?}",
            report.notices
        );
        let organisation = store.load_organisation(DEFAULT_TENANT).await.unwrap();
        let diane = organisation
            .agents
            .iter()
            .find(|a| a.id == "diane")
            .unwrap();
        assert_eq!(
            (diane.name.as_str(), diane.site_id.as_str(), diane.hire_date),
            ("Diane", "main", date(2021, 1, 1))
        );
        let audit = store.audit_entries(DEFAULT_TENANT).await.unwrap();
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.action == "organisation.create" && e.record_kind == "agent")
                .count(),
            1 + 5
        );
        let becky_calls = {
            let request = ReportRequest {
                from: date(2021, 1, 1),
                to: date(2021, 1, 1),
                dimensions: vec![merit_domain::metrics::Dimension::Agent],
                definitions: vec![Selected {
                    name: "handled".into(),
                    pinned: None,
                }],
                as_of_ms: None,
            };
            let report = kpi_report(&store, &CLOCK, DEFAULT_TENANT, &request)
                .await
                .unwrap();
            report
                .rows
                .iter()
                .find(|row| row.group == ["becky-1"])
                .map(|row| row.figures[0].numerator)
        };
        // Becky answered ID0002, ID0005 and ID0010 (ID0006 went unanswered).
        assert_eq!(becky_calls, Some(3));
        // A site the organisation lacks refuses the import.
        let nowhere = creating.replace("agent_site = \"main\"", "agent_site = \"mars\"");
        let dir = tempfile::tempdir().unwrap();
        let request = ImportRequest {
            tenant: DEFAULT_TENANT,
            actor: "test",
            kind: calls,
            format: mapped,
            time_zone: None,
            mapping: Some(Arc::new(Mapping::parse(&nowhere).unwrap())),
            cdr_layout: None,
            display_name: None,
            path: &write(dir.path(), "calls.csv", SPREADSHEET),
            progress: &|_| {},
            alone: false,
        };
        let error = import_file(&store, &CLOCK, request).await.unwrap_err();
        assert!(
            error.to_string().contains("\"mars\" is not a site"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_source_id_twice_in_one_file_is_reported_and_the_first_kept() {
    for store in stores::stores("duplicate_ids").await {
        centre(&store).await;
        let first_cdr = CDR_CSV.lines().next().unwrap();
        let twice = format!(
            "{first_cdr}\n{}\n",
            first_cdr.replace(",200,180,", ",100,80,")
        );
        let report = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::AsteriskCdr,
            None,
            "Master.csv",
            &twice,
        )
        .await;
        assert_eq!((report.inserted, report.rejected), (1, 1));
        assert_eq!(
            (report.problems[0].line, report.problems[0].field.as_str()),
            (2, "source_id")
        );
        let mut lines: Vec<&str> = SPREADSHEET.lines().take(3).collect();
        lines.push(lines[1]);
        let report = import_text(
            &store,
            ImportKind::Contacts,
            ImportFormat::Mapped,
            Some(SPREADSHEET_MAPPING),
            "calls.csv",
            &lines.join("\n"),
        )
        .await;
        // The repeated row's contact and its survey response are both reported.
        assert_eq!(
            (report.inserted, report.rejected),
            (4, 2),
            "{:?}",
            report.problems
        );
        assert!(
            report
                .problems
                .iter()
                .all(|p| p.line == 4 && p.field == "source_id")
        );
        let got = parts(&store, DAY, &["aht"]).await;
        assert_eq!(
            got,
            [(180 * 1000, Some(1))],
            "the first copy is the one kept"
        );
    }
}
