//! End to end: `merit demo` builds a database, serves the overview on the
//! address it prints, and a second run reuses the file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const MERIT: &str = env!("CARGO_BIN_EXE_merit");

/// Starts the demo and returns it with the address it serves on and what it said before.
fn start_demo(db: &str, extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(MERIT)
        .args([
            "demo",
            "--db",
            db,
            "--days",
            "3",
            "--agents",
            "12",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the demo stopped before serving")
            .unwrap();
        said.push_str(&line);
        said.push('\n');
        if let Some(rest) = line.strip_prefix("Merit is serving on http://") {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    (child, address, said)
}

fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn demo_serves_the_overview_and_reuses_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let db = db.to_str().unwrap();

    let (mut first, address, said) = start_demo(db, &[]);
    assert!(
        said.contains("contacts:") && said.contains("0 rejected"),
        "{said}"
    );
    let page = get(&address, "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<h1>Riverside Energy</h1>"));
    assert!(
        page.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'self'")
    );
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, address, said) = start_demo(db, &[]);
    assert!(
        !said.contains("contacts:"),
        "the second run must not import again: {said}"
    );
    let mut stderr = String::new();
    assert!(get(&address, "/").contains("Team F (Atlantic Partners)"));
    second.kill().unwrap();
    second.wait().unwrap();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("Reusing"), "{stderr}");

    let (mut third, _, said) = start_demo(db, &["--fresh"]);
    assert!(said.contains("contacts:"), "--fresh rebuilds: {said}");
    third.kill().unwrap();
    third.wait().unwrap();
}
