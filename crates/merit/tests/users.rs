//! `merit user` from the command line, and `merit serve` refusing a
//! database without users.

use std::io::Write;
use std::process::{Command, Stdio};

const MERIT: &str = env!("CARGO_BIN_EXE_merit");

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(MERIT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn users_are_added_listed_changed_and_disabled_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("merit.db");
    let db = db.to_str().unwrap();

    let (code, _, err) = run(&["serve", "--db", db, "--listen", "127.0.0.1:0"], "");
    assert_ne!(code, 0);
    assert!(
        err.contains("no users yet") && err.contains("merit user add"),
        "{err}"
    );

    let (code, out, err) = run(
        &[
            "user",
            "add",
            "--db",
            db,
            "admin",
            "--name",
            "Ada Admin",
            "--role",
            "administrator",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added admin (administrator, centre)"), "{out}");
    // A password made up for the user is printed once.
    let made_up = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    assert_eq!(made_up.split_whitespace().next().unwrap().len(), 16);

    let (code, _, err) = run(
        &[
            "user",
            "add",
            "--db",
            db,
            "ann",
            "--role",
            "agent",
            "--scope",
            "self",
            "--agent",
            "a-7",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "--db",
            db,
            "bob",
            "--role",
            "agent",
            "--scope",
            "centre",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("scope: centre does not go with the role agent"),
        "{err}"
    );
    let (code, _, err) = run(
        &[
            "user",
            "add",
            "--db",
            db,
            "cy",
            "--role",
            "trainer",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("password: must have at least 10 characters"),
        "{err}"
    );

    let (code, out, _) = run(
        &[
            "user",
            "set-role",
            "--db",
            db,
            "ann",
            "--role",
            "team_lead",
            "--scope",
            "team:t1",
        ],
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("ann is now team_lead (team:t1)"), "{out}");
    assert_eq!(run(&["user", "disable", "--db", db, "ann"], "").0, 0);
    assert_eq!(
        run(
            &[
                "user",
                "reset-password",
                "--db",
                db,
                "ann",
                "--password-stdin"
            ],
            "another long password\n"
        )
        .0,
        0
    );
    let (_, out, _) = run(&["user", "list", "--db", db], "");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "admin\tAda Admin\tadministrator\tcentre",
            "ann\tann\tteam_lead\tteam:t1\tdisabled"
        ]
    );
    let (code, _, err) = run(&["user", "disable", "--db", db, "nobody"], "");
    assert_ne!(code, 0);
    assert!(err.contains("not found"), "{err}");
}
