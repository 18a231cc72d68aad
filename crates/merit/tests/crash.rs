//! Crash test: `merit import` is SIGKILLed at 20 random points of a large
//! import. After each kill the store holds no partial batch, and running the
//! import again gives exactly the counts of a clean import.

use merit_domain::DEFAULT_TENANT;
use merit_store::{RecordKind, Store};
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const MERIT: &str = env!("CARGO_BIN_EXE_merit");

/// An import run to its end: (what it printed, how many progress lines).
fn import(db: &Path, file: &Path) -> (String, usize) {
    let output = Command::new(MERIT)
        .args(["import", "contacts", "--db"])
        .arg(db)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let n_progress = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("progress:"))
        .count();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        n_progress,
    )
}

async fn stored(db: &Path) -> (i64, usize) {
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    let counts = (
        store
            .count_revisions(DEFAULT_TENANT, RecordKind::Contacts)
            .await
            .unwrap(),
        store.import_batches(DEFAULT_TENANT).await.unwrap().len(),
    );
    store.close().await;
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_import_leaves_nothing_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let status = Command::new(MERIT)
        .args(["simulate", "--days", "21", "--agents", "60", "--out"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success());
    let contacts = data.join("contacts.csv");
    let n_rows = std::fs::read_to_string(&contacts).unwrap().lines().count() as i64 - 1;
    assert!(n_rows > 30_000, "{n_rows}");

    let clean_db = dir.path().join("clean.db");
    let (clean, n_progress) = import(&clean_db, &contacts);
    assert!(n_progress > 20, "{n_progress} progress lines");
    assert_eq!(stored(&clean_db).await, (n_rows, 1));

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20);
    for attempt in 0..20 {
        let db = dir.path().join(format!("killed-{attempt}.db"));
        // Kill after a random number of progress lines (0 = as soon as it
        // starts), anywhere in the file but its last two chunks (so the kill
        // lands before the commit): a clean import printed `n_progress`.
        let kill_after = rng.random_range(0..n_progress - 2);
        let mut child = Command::new(MERIT)
            .args(["import", "contacts", "--db"])
            .arg(&db)
            .arg(&contacts)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = 0;
        while seen < kill_after {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("progress:") => seen += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "attempt {attempt}: the import finished before the kill"
        );
        if db.exists() {
            assert_eq!(
                stored(&db).await,
                (0, 0),
                "attempt {attempt}: a partial batch after a kill at {kill_after}"
            );
        }
        let (rerun, _) = import(&db, &contacts);
        assert_eq!(
            rerun.replace(db.to_str().unwrap(), ""),
            clean.replace(clean_db.to_str().unwrap(), "")
        );
        assert_eq!(stored(&db).await, (n_rows, 1));
    }
}
