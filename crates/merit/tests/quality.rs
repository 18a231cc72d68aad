//! Quality from the command line: publish a form from its text (a refused
//! one names its line), import past and automated evaluations (a bad row
//! names its line and field, the rest go in, a second run adds nothing),
//! and list the forms.

use std::process::Command;

const MERIT: &str = env!("CARGO_BIN_EXE_merit");
const FORM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/examples/inbound-call-quality.toml"
);

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(MERIT).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

const ANSWERS: &str = "greeting=yes; verification=yes; understood=4; resolved=no; next_step_confirmed=yes; accuracy=8; empathy=5; hold_explained=n/a; went_extra_mile=no; recording_notice=pass; wrap_up_code=pass";

#[test]
fn forms_are_published_and_evaluations_imported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let db = path("quality.db");
    std::fs::write(
        path("org.csv"),
        "record,id,name,site_id,time_zone,hire_date,agent_id,team_id,from_date\n\
         site,s1,Site,,Europe/Berlin,,,,\nteam,t1,Team,s1,,,,,\n\
         agent,a1,Agent,s1,,2026-01-01,,,\nmembership,,,,,,a1,t1,2026-01-01\n",
    )
    .unwrap();
    std::fs::write(
        path("contacts.csv"),
        "source_id,channel,arrival,end,outcome,agent_id,queue_entry,answer\n\
         c1,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,handled,a1,2026-08-03T08:00:00Z,2026-08-03T08:00:20Z\n",
    )
    .unwrap();
    assert_eq!(run(&["import", "org", "--db", &db, &path("org.csv")]).0, 0);
    assert_eq!(
        run(&["import", "contacts", "--db", &db, &path("contacts.csv")]).0,
        0
    );

    let broken = std::fs::read_to_string(FORM)
        .unwrap()
        .replacen("weight = 3", "weight = -3", 1);
    std::fs::write(path("broken.toml"), broken).unwrap();
    let (code, text) = run(&["quality", "publish", "--db", &db, &path("broken.toml")]);
    assert_eq!(code, 1);
    assert!(
        text.contains("line 20") && text.contains("negative"),
        "{text}"
    );
    let (code, text) = run(&["quality", "publish", "--db", &db, FORM]);
    assert_eq!((code, text.trim()), (0, "form 1 version 1"), "{text}");

    let header = "source_id,form,contact_source_id,kind,evaluator,evaluated_at,answers,released_at";
    std::fs::write(
        path("evaluations.csv"),
        format!(
            "{header}\n\
             e1,Inbound call quality,c1,human,Former QA,2026-08-04T10:00:00Z,\"{ANSWERS}\",2026-08-04T11:00:00Z\n\
             e2,Inbound call quality,c1,automated,speech-analytics,2026-08-04T10:00:00Z,\"{}\",\n\
             e3,Inbound call quality,c1,human,Former QA,2026-08-04T10:00:00Z,\"{}\",\n\
             e4,No such form,c1,human,Former QA,2026-08-04T10:00:00Z,\"{ANSWERS}\",\n",
            ANSWERS.replace("accuracy=8", "accuracy=10"),
            ANSWERS.replace("understood=4", "understood=9"),
        ),
    )
    .unwrap();
    let (code, text) = run(&[
        "import",
        "evaluations",
        "--db",
        &db,
        &path("evaluations.csv"),
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("evaluations.csv:4: answers: question understood"),
        "{text}"
    );
    assert!(
        text.contains("evaluations.csv:5: form: no form is named"),
        "{text}"
    );
    assert!(
        text.contains("2 evaluations inserted, 0 unchanged, 2 rejected"),
        "{text}"
    );
    let (_, text) = run(&[
        "import",
        "evaluations",
        "--db",
        &db,
        &path("evaluations.csv"),
    ]);
    assert!(
        text.contains("0 evaluations inserted, 2 unchanged, 2 rejected"),
        "{text}"
    );

    let (code, text) = run(&["quality", "forms", "--db", &db]);
    assert_eq!(code, 0);
    assert!(
        text.contains("v1") && text.contains("in use") && text.contains("Inbound call quality"),
        "{text}"
    );
}
