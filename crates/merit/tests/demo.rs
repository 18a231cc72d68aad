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

/// One HTTP/1.1 exchange: the whole response as text.
fn exchange(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn get(address: &str, path: &str, cookie: &str) -> String {
    exchange(
        address,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// Signs in as a demo user and returns the session cookie.
fn sign_in(address: &str, username: &str) -> String {
    let form = format!("username={username}&password=riverside-demo");
    let response = exchange(
        address,
        &format!(
            "POST /sign-in HTTP/1.1\r\nHost: {address}\r\nOrigin: http://{address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    response
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| l[11..].trim().split(';').next().unwrap().to_owned())
        })
        .unwrap()
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
    // Nothing without signing in; the demo prints its users.
    let page = get(&address, "/", "");
    assert!(
        page.starts_with("HTTP/1.1 303") && page.contains("location: /sign-in"),
        "{page}"
    );
    let cookie = sign_in(&address, "operations");
    let page = get(&address, "/", &cookie);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<h1>Riverside Energy</h1>"));
    assert!(
        page.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'self'")
    );
    // The demo's scorecard form is published, for the QA specialists to use.
    let cookie = sign_in(&address, "qa2");
    let page = get(&address, "/quality", &cookie);
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("Inbound call quality"),
        "{page}"
    );
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, address, said) = start_demo(db, &[]);
    assert!(
        !said.contains("contacts:"),
        "the second run must not import again: {said}"
    );
    let mut stderr = String::new();
    let cookie = sign_in(&address, "admin");
    assert!(get(&address, "/", &cookie).contains("Team F (Atlantic Partners)"));
    second.kill().unwrap();
    second.wait().unwrap();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("Reusing"), "{stderr}");
    assert!(
        stderr.contains("password riverside-demo")
            && stderr.contains("admin        administrator (centre)"),
        "{stderr}"
    );

    let (mut third, _, said) = start_demo(db, &["--fresh"]);
    assert!(said.contains("contacts:"), "--fresh rebuilds: {said}");
    third.kill().unwrap();
    third.wait().unwrap();
}
