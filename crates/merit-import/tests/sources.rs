//! The readers of real sources, record by record: samples written from each
//! format's public documentation, their malformed variants, and files of
//! another format. The figures these samples give are checked end to end in
//! merit-service's tests/sources.rs.

use jiff::tz::TimeZone;
use merit_domain::contact::{Contact, Outcome};
use merit_import::asterisk_cdr::{CdrLayout, caller_number};
use merit_import::mapped::Mapping;
use merit_import::native::NativeRecord;
use merit_import::{
    CarriedEvent, FileRefused, ImportFormat, ImportKind, ReadOptions, RowProblem, open,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything one reader gave.
#[derive(Debug, Default)]
struct Read {
    contacts: Vec<Contact>,
    other: Vec<NativeRecord>,
    problems: Vec<RowProblem>,
    skipped: BTreeMap<String, u64>,
    carried: Vec<CarriedEvent>,
    notices: Vec<String>,
}

fn file(text: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn read_with(
    text: &[u8],
    kind: ImportKind,
    format: ImportFormat,
    options: ReadOptions,
) -> Result<Read, FileRefused> {
    let (_dir, path) = file(text);
    let mut reader = open(&path, kind, format, options)?;
    let mut read = Read::default();
    for item in &mut reader {
        match item {
            Ok((_, NativeRecord::Contact(c))) => read.contacts.push(*c),
            Ok((_, other)) => read.other.push(other),
            Err(problem) => read.problems.push(problem),
        }
    }
    read.skipped = reader.skipped();
    (read.carried, read.notices) = reader.carry_over();
    Ok(read)
}

fn utc() -> ReadOptions {
    ReadOptions::in_zone(TimeZone::UTC)
}

fn read(text: &str, format: ImportFormat) -> Read {
    read_with(text.as_bytes(), ImportKind::Contacts, format, utc()).unwrap()
}

fn refused(text: &str, format: ImportFormat) -> String {
    read_with(text.as_bytes(), ImportKind::Contacts, format, utc())
        .unwrap_err()
        .to_string()
}

/// (line, field) of each problem.
fn where_(read: &Read) -> Vec<(u64, &str)> {
    read.problems
        .iter()
        .map(|p| (p.line, p.field.as_str()))
        .collect()
}

// ---------------------------------------------------------------- queue_log

const QUEUE_LOG: &str = "\
1790000100|1790000100.1|support|NONE|ENTERQUEUE||5551001|1
1790000112|1790000100.1|support|SIP/1002|CONNECT|12|1790000112.2|3
1790000200|1790000200.3|support|NONE|ENTERQUEUE||5551002|1
1790000245|1790000200.3|support|NONE|ABANDON|1|1|45
1790000292|1790000100.1|support|SIP/1002|COMPLETECALLER|12|180|1
";

#[test]
fn queue_log_visits_become_contacts() {
    let read = read(QUEUE_LOG, ImportFormat::AsteriskQueueLog);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let [abandoned, answered] = read.contacts.as_slice() else {
        panic!("{:?}", read.contacts);
    };
    let at = |s: i64| 1_790_000_000_000 + s * 1000;
    assert_eq!(answered.source_id, "1790000100.1/support/1790000100");
    assert_eq!(answered.customer_id.as_deref(), Some("5551001"));
    assert_eq!(answered.agent_id.as_deref(), Some("SIP/1002"));
    assert_eq!(
        (answered.queue_entry_ms, answered.answer_ms, answered.end_ms),
        (Some(at(100)), Some(at(112)), at(292))
    );
    assert_eq!(answered.outcome, Outcome::Handled);
    assert_eq!(abandoned.outcome, Outcome::QueueAbandon);
    assert_eq!(abandoned.wait_ms(), Some(45_000));
}

#[test]
fn a_table_export_gives_the_same_contacts_as_the_flat_file() {
    let flat = read(QUEUE_LOG, ImportFormat::AsteriskQueueLog);
    // The same events with timestamps (local to the zone, or with an
    // offset), data1..data5 columns or one pipe-separated data column.
    let tables = [
        "time,callid,queuename,agent,event,data1,data2,data3,data4,data5
2026-09-21 14:15:00.000000,1790000100.1,support,NONE,ENTERQUEUE,,5551001,1,,
2026-09-21 14:15:12,1790000100.1,support,SIP/1002,CONNECT,12,1790000112.2,3,,
2026-09-21T16:16:40+02:00,1790000200.3,support,NONE,ENTERQUEUE,,5551002,1,,
2026-09-21 14:17:25,1790000200.3,support,NONE,ABANDON,1,1,45,,
1790000292,1790000100.1,support,SIP/1002,COMPLETECALLER,12,180,1,,
",
        "time;callid;queuename;agent;event;data
2026-09-21 14:15:00;1790000100.1;support;NONE;ENTERQUEUE;|5551001|1
2026-09-21 14:15:12;1790000100.1;support;SIP/1002;CONNECT;12|1790000112.2|3
2026-09-21 14:16:40;1790000200.3;support;NONE;ENTERQUEUE;|5551002|1
2026-09-21 14:17:25;1790000200.3;support;NONE;ABANDON;1|1|45
2026-09-21 14:18:12;1790000100.1;support;SIP/1002;COMPLETECALLER;12|180|1
",
    ];
    for table in tables {
        let read = read(table, ImportFormat::AsteriskQueueLog);
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        assert_eq!(read.contacts, flat.contacts);
    }
}

#[test]
fn queue_log_events_out_of_order_or_twice_still_make_one_contact() {
    let mut lines: Vec<&str> = QUEUE_LOG.lines().collect();
    lines.reverse();
    lines.push(lines[0]);
    let shuffled = lines.join("\n");
    let read = read(&shuffled, ImportFormat::AsteriskQueueLog);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let mut ids: Vec<&str> = read.contacts.iter().map(|c| c.source_id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "1790000100.1/support/1790000100",
            "1790000200.3/support/1790000200"
        ]
    );
    assert!(read.carried.is_empty(), "{:?}", read.carried);
}

#[test]
fn a_call_cut_mid_way_is_carried_over_not_invented() {
    let (head, tail) = QUEUE_LOG.split_at(QUEUE_LOG.find("1790000245").unwrap());
    let first = read(head, ImportFormat::AsteriskQueueLog);
    assert!(first.contacts.is_empty());
    assert_eq!(first.carried.len(), 3, "ENTERQUEUE, CONNECT and ENTERQUEUE");
    assert!(
        first.notices[0].contains("ENTERQUEUE at "),
        "{:?}",
        first.notices
    );
    assert!(
        first.notices[0].contains(":1 has no ending"),
        "{:?}",
        first.notices
    );
    let options = ReadOptions {
        carried_over: first.carried.clone(),
        ..utc()
    };
    let second = read_with(
        tail.as_bytes(),
        ImportKind::Contacts,
        ImportFormat::AsteriskQueueLog,
        options,
    )
    .unwrap();
    assert!(second.carried.is_empty());
    let whole = read(QUEUE_LOG, ImportFormat::AsteriskQueueLog);
    assert_eq!(second.contacts, whole.contacts);
}

#[test]
fn queue_log_member_events_become_agent_states() {
    let text = "\
1790000000|NONE|q1|SIP/1001|ADDMEMBER|
1790000000|NONE|q2|SIP/1001|ADDMEMBER|
1790000100|NONE|NONE|SIP/1001|PAUSEALL|break
1790000200|NONE|NONE|SIP/1001|UNPAUSEALL|
1790000300|NONE|q1|SIP/1001|REMOVEMEMBER|
1790000400|NONE|q2|SIP/1001|REMOVEMEMBER|
";
    let read = read(text, ImportFormat::AsteriskQueueLog);
    let states: Vec<(i64, &str, Option<&str>)> = read
        .other
        .iter()
        .map(|r| match r {
            NativeRecord::State(_, s) => (
                s.at_ms / 1000 - 1_790_000_000,
                s.state.as_str(),
                s.reason.as_deref(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    // Removed from q1 while still in q2: still logged in.
    assert_eq!(
        states,
        [
            (0, "ready", None),
            (100, "not_ready", Some("break")),
            (200, "ready", None),
            (400, "logged_out", None)
        ]
    );
}

#[test]
fn malformed_queue_log_lines_are_reported_by_line_and_field() {
    let text = "\
1790000100|1790000100.1|support|NONE|ENTERQUEUE||5551001|1
1790000101|cut
yesterday|1790000100.9|support|NONE|ENTERQUEUE||1|1
1790000102|1790000100.1|support|NONE|EXPLODE|1
1790000103||support|NONE|ENTERQUEUE||1|1
1790000112|1790000100.1|support|SIP/1002|CONNECT|12|x|3
1790000292|1790000100.1|support|SIP/1002|COMPLETECALLER|12||1
1790000300|1790000300.1|support|NONE|ENTERQUEUE||1|1
1790000310|1790000300.1|support|NONE|ABANDON|1|1|-5
";
    let read = read(text, ImportFormat::AsteriskQueueLog);
    assert!(read.contacts.is_empty(), "{:?}", read.contacts);
    assert_eq!(
        where_(&read),
        [
            (2, "(row)"),
            (3, "epoch"),
            (4, "event"),
            (5, "callid"),
            (7, "calltime"),
            (9, "waittime")
        ]
    );
}

#[test]
fn other_files_are_refused_as_queue_logs() {
    for text in [CDR_CSV, "", "a,b,c\n1,2,3\n", "1790000100|only|three\n"] {
        let message = refused(text, ImportFormat::AsteriskQueueLog);
        assert!(
            message.contains("not an Asterisk queue_log") || message.contains("empty"),
            "{message}"
        );
    }
    let binary = read_with(
        b"\x00\x01\x02ELF",
        ImportKind::Contacts,
        ImportFormat::AsteriskQueueLog,
        utc(),
    )
    .unwrap_err();
    assert!(binary.to_string().contains("binary"), "{binary}");
}

// ---------------------------------------------------------------- CDR

const CDR_CSV: &str = r#""","5551001","600","from-pstn","""Ann Smith"" <5551001>","SIP/trunk-00000001","SIP/1001-00000002","Queue","support,t,,,300","2026-09-21 09:00:00","2026-09-21 09:00:20","2026-09-21 09:03:20",200,180,"ANSWERED","DOCUMENTATION","1790000000.1",""
"","","1001","from-pstn","""Bob"" <5551002>","SIP/trunk-00000003","SIP/1001-00000004","Dial","SIP/1001,30","2026-09-21 09:10:00","2026-09-21 09:10:05","2026-09-21 09:11:05",65,60,"ANSWERED","DOCUMENTATION"
"","5551003","600","from-pstn","","SIP/trunk-00000005","","Queue","support","2026-09-21 09:20:00","","2026-09-21 09:20:30",30,0,"NO ANSWER","DOCUMENTATION","1790001200.5",""
"","5551005","1002","from-pstn","","SIP/trunk-00000007","SIP/1002-00000008","Dial","SIP/1002","2026-09-21 09:30:00","","2026-09-21 09:30:00",0,0,"BUSY","DOCUMENTATION","1790001800.7",""
"#;

/// The same records in the common cdr_custom order, with a sequence.
const CDR_CUSTOM: &str = r#""""Ann Smith"" <5551001>","5551001","600","from-pstn","SIP/trunk-00000001","SIP/1001-00000002","Queue","support,t,,,300","2026-09-21 09:00:00","2026-09-21 09:00:20","2026-09-21 09:03:20","200","180","ANSWERED","DOCUMENTATION","","1790000000.1","",""
"""Bob"" <5551002>","","1001","from-pstn","SIP/trunk-00000003","SIP/1001-00000004","Dial","SIP/1001,30","2026-09-21 09:10:00","2026-09-21 09:10:05","2026-09-21 09:11:05","65","60","ANSWERED","DOCUMENTATION","","","",""
"","5551003","600","from-pstn","SIP/trunk-00000005","","Queue","support","2026-09-21 09:20:00","","2026-09-21 09:20:30","30","0","NO ANSWER","DOCUMENTATION","","1790001200.5","",""
"","5551005","1002","from-pstn","SIP/trunk-00000007","SIP/1002-00000008","Dial","SIP/1002","2026-09-21 09:30:00","","2026-09-21 09:30:00","0","0","BUSY","DOCUMENTATION","","1790001800.7","",""
"#;

#[test]
fn both_cdr_orders_give_the_same_contacts() {
    let csv = read(CDR_CSV, ImportFormat::AsteriskCdr);
    let custom = read(CDR_CUSTOM, ImportFormat::AsteriskCdr);
    assert!(
        csv.problems.is_empty() && custom.problems.is_empty(),
        "{:?} {:?}",
        csv.problems,
        custom.problems
    );
    assert_eq!(csv.contacts, custom.contacts);
    let [queued, direct, gave_up, busy] = csv.contacts.as_slice() else {
        panic!("{:?}", csv.contacts);
    };
    assert_eq!(queued.queue_id.as_deref(), Some("support"));
    assert_eq!(queued.agent_id.as_deref(), Some("SIP/1001"));
    assert_eq!(
        (queued.wait_ms(), queued.talk_ms()),
        (Some(20_000), Some(180_000))
    );
    // No src: the number comes from the quoted caller id.
    assert_eq!(direct.customer_id.as_deref(), Some("5551002"));
    assert_eq!(direct.queue_id, None);
    assert_eq!(
        (gave_up.outcome, gave_up.wait_ms()),
        (Outcome::QueueAbandon, Some(30_000))
    );
    assert_eq!(busy.outcome, Outcome::Refused);
    // The layout can also be chosen; a choice the data contradicts is refused.
    let chosen = ReadOptions {
        cdr_layout: Some(CdrLayout::CdrCustom),
        ..utc()
    };
    let message = read_with(
        CDR_CSV.as_bytes(),
        ImportKind::Contacts,
        ImportFormat::AsteriskCdr,
        chosen,
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("CdrCsv puts it, not where CdrCustom"),
        "{message}"
    );
}

#[test]
fn caller_ids_parse_with_or_without_a_name() {
    assert_eq!(caller_number(r#""Ann Smith" <5551001>"#), Some("5551001"));
    assert_eq!(caller_number("<5551001>"), Some("5551001"));
    assert_eq!(caller_number("5551001"), Some("5551001"));
    assert_eq!(caller_number(r#""" <>"#), None);
}

#[test]
fn malformed_cdr_rows_are_reported() {
    let first = CDR_CSV.lines().next().unwrap();
    let rows = [
        first.to_owned(),
        r#""","1","2","ctx","","SIP/a-1","","Dial","x","2026-09-21 09:00:00""#.to_owned(),
        first.replace(",200,180,", ",100,180,"),
        first.replace("\"2026-09-21 09:00:00\"", "\"21/09/2026 9am\""),
        first.replace("ANSWERED", "MAYBE"),
        first.replace(",200,180,", ",two,180,"),
        first
            .replace("1790000000.1", "1790000000.2")
            .replace(",\"\"\n", ",\"\""),
    ];
    let read = read(&rows.join("\n"), ImportFormat::AsteriskCdr);
    assert_eq!(read.contacts.len(), 2);
    assert_eq!(
        where_(&read),
        [
            (2, "(row)"),
            (3, "billsec"),
            (4, "start"),
            (5, "disposition"),
            (6, "duration")
        ]
    );
    for text in [QUEUE_LOG, "just,some,csv\n"] {
        assert!(refused(text, ImportFormat::AsteriskCdr).contains("not an Asterisk CDR"));
    }
}

// ---------------------------------------------------------------- Amazon Connect

const CONTACT: &str = r#"{"ContactId":"C1","Channel":"CHAT","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-09-21T10:00:00Z","DisconnectTimestamp":"2026-09-21T10:20:00Z","Queue":{"Name":"chat","EnqueueTimestamp":"2026-09-21T10:00:05Z"},"Agent":{"Username":"ann","ConnectedToAgentTimestamp":"2026-09-21T10:01:05Z","AgentInteractionDuration":900,"AfterContactWorkDuration":30},"NewField":{"deep":[1,{"x":"}"}]}}"#;

#[test]
fn connect_records_map_to_contacts_and_unknown_fields_are_ignored() {
    let read = read(CONTACT, ImportFormat::AmazonConnect);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let [chat] = read.contacts.as_slice() else {
        panic!("{:?}", read.contacts)
    };
    assert_eq!(chat.wait_ms(), Some(60_000));
    assert_eq!(chat.talk_ms(), Some(900_000));
    assert_eq!(chat.after_work_ms(), 30_000);
    // A chat's first agent reply is taken as the moment it was connected.
    assert_eq!(chat.first_response_ms, chat.answer_ms);
}

#[test]
fn malformed_connect_records_are_reported_and_the_rest_read() {
    let ok = |id: &str| CONTACT.replace("\"C1\"", &format!("\"{id}\""));
    let text = [
        ok("A"),
        "garbage between records".to_owned(),
        ok("B"),
        ok("C").replace("900", "\"long\""),
        ok("D").replace(r#""InitiationTimestamp":"2026-09-21T10:00:00Z","#, ""),
        ok("E").replace("CHAT", "PIGEON"),
        ok("F").replace("10:01:05Z", "09:59:00Z"),
        ok("G").replace(r#""Channel":"CHAT""#, r#""Channel":"CHAT","Channel":"#),
        ok("H")[..60].to_owned(),
    ]
    .join("\n");
    let read = read(&text, ImportFormat::AmazonConnect);
    let ids: Vec<&str> = read.contacts.iter().map(|c| c.source_id.as_str()).collect();
    assert_eq!(ids, ["A", "B"]);
    assert_eq!(
        where_(&read),
        [
            (2, "(record)"),
            (4, "Agent.AgentInteractionDuration"),
            (5, "InitiationTimestamp"),
            (6, "Channel"),
            (7, "answer"),
            (8, "(record)"),
            (9, "(record)")
        ]
    );
    assert!(
        read.problems[6].reason.contains("cut off"),
        "{:?}",
        read.problems[6]
    );
    for text in [CDR_CSV, "[1, 2, 3]", r#"{"Id": "not a contact record"}"#] {
        let message = refused(text, ImportFormat::AmazonConnect);
        assert!(message.contains("not Amazon Connect"), "{message}");
    }
}

// ---------------------------------------------------------------- mapped

const CALLS: &str = "\
id;when;status;wait;talk;score
1;03/08/2026 08:15;Completed;0:40;4:00;5
2;03/08/2026 08:20;Abandoned;1:10;;
3;03/08/2026 08:25;Completed;;3:00;
4;03/08/2026 08:30;Unknown;0:10;1:00;
5;03/08/2026 08:35;Completed;0:10;1:00;7
6;yesterday;Completed;0:10;1:00;
7;03/08/2026 08:45;Completed;ten;1:00;
";

const CALLS_MAPPING: &str = r#"
delimiter = ";"
time_zone = "Europe/Paris"
time_format = "%d/%m/%Y %H:%M"
duration = "hh:mm:ss"

[contact]
source_id = "id"
arrival = "when"
outcome = "status"
outcome_values = { handled = ["Completed"], queue_abandon = ["Abandoned"] }
wait = "wait"
talk = "talk"
queue = { value = "main" }
survey = [{ column = "score", question = "satisfied_with_answers", scale = "1-5" }]
"#;

fn mapped(text: &str, kind: ImportKind, mapping: &str) -> Result<Read, FileRefused> {
    let options = ReadOptions {
        mapping: Some(Arc::new(Mapping::parse(mapping).unwrap())),
        ..utc()
    };
    read_with(text.as_bytes(), kind, ImportFormat::Mapped, options)
}

#[test]
fn a_mapping_reads_outcomes_local_times_and_durations_and_reports_bad_rows() {
    let read = mapped(CALLS, ImportKind::Contacts, CALLS_MAPPING).unwrap();
    let [completed, abandoned] = read.contacts.as_slice() else {
        panic!("{:?} {:?}", read.contacts, read.problems)
    };
    // 08:15 in Paris in August is 06:15 UTC.
    assert_eq!(completed.arrival_ms, 1_785_737_700_000);
    assert_eq!(
        (completed.wait_ms(), completed.talk_ms()),
        (Some(40_000), Some(240_000))
    );
    assert_eq!(completed.queue_id.as_deref(), Some("main"));
    assert_eq!(
        (abandoned.outcome, abandoned.wait_ms()),
        (Outcome::QueueAbandon, Some(70_000))
    );
    assert_eq!(read.other.len(), 1, "the one survey answer");
    assert_eq!(
        where_(&read),
        [
            (4, "wait"),
            (5, "outcome"),
            (6, "score"),
            (7, "arrival"),
            (8, "wait")
        ]
    );
}

#[test]
fn mapping_mistakes_name_their_line_or_column() {
    let cases = [
        ("[contact]\nsource_id = \n", "line 2"),
        (
            "[contact]\nsource_id = \"id\"\narival = \"when\"\n",
            "line 3",
        ),
        (
            "[contact]\nsource_id = \"id\"\nanswered = \"a\"\n",
            "map arrival",
        ),
        (
            "[contact]\nsource_id = \"id\"\narrival = \"when\"\n",
            "map answered",
        ),
        (
            "[contact]\nsource_id = \"id\"\narrival = \"w\"\noutcome = \"s\"\noutcome_values = { won = [\"W\"] }\n",
            "\"won\" is not one of",
        ),
        (
            "time_zone = \"Mars/Olympus\"\n[contact]\nsource_id = \"id\"\n",
            "IANA",
        ),
        ("source_system = \"x\"\n", "neither [contact] nor [survey]"),
    ];
    for (text, expected) in cases {
        let message = Mapping::parse(text).unwrap_err();
        assert!(message.contains(expected), "{text:?}: {message}");
    }
    let missing = mapped(
        "id,when\n1,2026-08-03 08:15:00\n",
        ImportKind::Contacts,
        CALLS_MAPPING.replace("delimiter = \";\"\n", "").as_str(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("column(s) the file lacks: status, wait, talk, score"),
        "{missing}"
    );
    let no_survey = mapped(CALLS, ImportKind::Surveys, CALLS_MAPPING).unwrap_err();
    assert!(
        no_survey.to_string().contains("no [survey] section"),
        "{no_survey}"
    );
}

// ---------------------------------------------------------------- any bytes

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn all_formats(bytes: &[u8]) {
        for format in [
            ImportFormat::AsteriskQueueLog,
            ImportFormat::AsteriskCdr,
            ImportFormat::AmazonConnect,
            ImportFormat::AnonymousBank,
        ] {
            let _ = read_with(bytes, ImportKind::Contacts, format, utc());
        }
        let _ = mapped(
            &String::from_utf8_lossy(bytes),
            ImportKind::Contacts,
            CALLS_MAPPING,
        );
    }

    /// Lines built from queue_log's own events with random fields, so the
    /// visit assembly, not only the line parser, meets odd input.
    fn queue_log_line() -> impl Strategy<Value = String> {
        let events = prop::sample::select(vec![
            "ENTERQUEUE",
            "CONNECT",
            "COMPLETEAGENT",
            "COMPLETECALLER",
            "ABANDON",
            "EXITWITHTIMEOUT",
            "EXITWITHKEY",
            "TRANSFER",
            "ATTENDEDTRANSFER",
            "JOINEMPTY",
            "ADDMEMBER",
            "REMOVEMEMBER",
            "PAUSE",
            "UNPAUSE",
            "RINGNOANSWER",
            "BOGUS",
        ]);
        let field = prop::sample::select(vec!["", "0", "5", "-3", "99999999999", "x", "LINK"]);
        (
            0u32..50,
            0u8..4,
            0u8..2,
            events,
            prop::collection::vec(field, 0..6),
        )
            .prop_map(|(t, call, queue, event, data)| {
                format!(
                    "{}|c{call}|q{queue}|SIP/1|{event}|{}",
                    1_790_000_000 + t,
                    data.join("|")
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_bytes_give_records_and_problems(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            all_formats(&bytes);
        }

        #[test]
        fn any_text_lines_give_records_and_problems(lines in prop::collection::vec("[ -~]{0,60}", 0..12)) {
            all_formats(lines.join("\n").as_bytes());
        }

        #[test]
        fn any_queue_log_events_give_records_and_problems(lines in prop::collection::vec(queue_log_line(), 1..30)) {
            let text = lines.join("\n");
            let read = read_with(text.as_bytes(), ImportKind::Contacts, ImportFormat::AsteriskQueueLog, utc()).unwrap();
            // Every contact came out whole: its timeline is valid.
            for contact in &read.contacts {
                prop_assert!(contact.validate().is_ok());
            }
        }
    }
}

#[test]
fn times_with_and_without_an_offset_mix_in_one_file() {
    let mapping = r#"
time_zone = "Europe/Paris"
[contact]
source_id = "id"
arrival = "at"
answered = "answered"
"#;
    let text = "id,at,answered\n\
                local,2026-08-03 08:15:00,y\n\
                utc,2026-08-03T06:15:00Z,y\n\
                offset,2026-08-03T09:15:00+03:00,y\n";
    let local = mapped(text, ImportKind::Contacts, mapping).unwrap();
    assert!(local.problems.is_empty(), "{:?}", local.problems);
    let arrivals: Vec<i64> = local.contacts.iter().map(|c| c.arrival_ms).collect();
    assert_eq!(arrivals, [1_785_737_700_000; 3]);
    // Connect's times carry their offset too.
    let shifted = CONTACT.replace("2026-09-21T10:00:00Z", "2026-09-21T12:00:00+02:00");
    assert_eq!(
        read(&shifted, ImportFormat::AmazonConnect).contacts,
        read(CONTACT, ImportFormat::AmazonConnect).contacts
    );
}
