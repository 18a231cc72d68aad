//! A 1 GB contacts file streams through `merit import` in bounded memory:
//! the import's peak resident memory stays under 200 MB (read from
//! /proc/<pid>/status at every progress line, without waiting on a timer).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Command, Stdio};

const MERIT: &str = env!("CARGO_BIN_EXE_merit");
const GIGABYTE: u64 = 1 << 30;

fn peak_resident_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix("VmHWM:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

#[test]
fn a_one_gigabyte_file_imports_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.csv");
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(
        out,
        "source_id,channel,arrival,end,outcome,queue_id,recording_url"
    )
    .unwrap();
    // Long rows (a 2 KB recording link) keep the row count, and so the test's time, modest.
    let link = format!("https://recordings.example/{}", "r".repeat(2_000));
    let mut written = 0u64;
    let mut n_rows = 0u64;
    while written < GIGABYTE {
        let minute = n_rows % 600;
        let line = format!(
            "c{n_rows:08},voice_inbound,2026-08-03T08:{:02}:{:02}Z,2026-08-03T09:{:02}:00Z,menu_abandon,,{link}\n",
            minute / 60 + 10,
            minute % 60,
            minute / 60 + 10
        );
        out.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        n_rows += 1;
    }
    out.flush().unwrap();
    drop(out);

    let db = dir.path().join("large.db");
    let mut child = Command::new(MERIT)
        .args(["import", "contacts", "--db"])
        .arg(&db)
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak_kb = 0;
    let mut progress_lines = 0;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        if line.unwrap().starts_with("progress:") {
            progress_lines += 1;
            peak_kb = peak_kb.max(peak_resident_kb(pid).unwrap_or(0));
        }
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains(&format!("{n_rows} contacts: {n_rows} inserted")),
        "{summary}"
    );
    assert!(
        progress_lines > 10 && peak_kb > 0,
        "{progress_lines} progress lines, {peak_kb} kB"
    );
    assert!(
        peak_kb < 200 * 1024,
        "peak resident memory {peak_kb} kB for a {written}-byte file"
    );
}
