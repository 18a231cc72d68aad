//! `cargo xtask bench pages`: the web application's pages under load. The
//! demo centre at 300 agents × 90 days (about 1.4 million contacts) is
//! built and served by `merit demo`; after one cold request per page, wrk
//! (Debian's package, installed when missing and run as root) keeps 50
//! connections busy on each page for a bounded time and prints the latency
//! percentiles, against the target of 100 ms at p99.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const CONNECTIONS: &str = "50";
const SECONDS: &str = "20s";
const PASSWORD: &str = "riverside-demo";

/// The demo server, stopped when the benchmark ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn curl(args: &[&str]) -> Result<String> {
    let output = Command::new("curl")
        .args(["-s", "--max-time", "600"])
        .args(args)
        .output()
        .context("cannot run curl")?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Signs in and returns the session cookie (`merit_session=...`).
fn sign_in(base: &str, username: &str, jar: &Path) -> Result<String> {
    let jar_text = jar.to_string_lossy();
    curl(&[
        "-c",
        &jar_text,
        "-H",
        "Sec-Fetch-Site: same-origin",
        "-d",
        &format!("username={username}&password={PASSWORD}"),
        &format!("{base}/sign-in"),
    ])?;
    let jar = std::fs::read_to_string(jar)?;
    jar.lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields.len() == 7 && fields[5] == "merit_session")
                .then(|| format!("merit_session={}", fields[6]))
        })
        .with_context(|| format!("{username} could not sign in"))
}

fn install_wrk() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    let status = Command::new("apt-get")
        .args(["-q", "install", "-y", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("wrk is missing and apt-get cannot run: install Debian's wrk")?;
    if !status.success() {
        bail!("wrk is missing and could not be installed: install Debian's wrk");
    }
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    let agents = super::bench::agents(args);
    install_wrk()?;
    let root = super::workspace_root()?;
    let mut build = super::cargo();
    build.args(["build", "--release", "-p", "merit"]);
    super::run_stage("build", build)?;
    let data = root.join("bench-data/pages");
    std::fs::create_dir_all(&data)?;
    let db = data.join("pages.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // The database is kept between runs: `--fresh` (on the first run, or
    // when its size changes) simulates and imports again.
    let mut demo = Command::new(root.join("target/release/merit"));
    demo.args(["demo", "--days", "90", "--agents", agents, "--db"])
        .arg(&db)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if args.iter().any(|a| a == "--fresh") || !db.exists() {
        demo.arg("--fresh");
    }
    let _server = Server(demo.spawn().context("cannot start merit demo")?);
    // curl waits for the server to listen (connection refused is retried).
    let health = curl(&[
        "--retry",
        "3600",
        "--retry-connrefused",
        "--retry-delay",
        "1",
        &format!("{base}/healthz"),
    ])?;
    if health != "ok" {
        bail!("the demo server did not come up: {health}");
    }
    println!(
        "demo of {agents} agents × 90 days built and serving in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let contacts = curl(&[
        "-H",
        &format!(
            "Cookie: {}",
            sign_in(&base, "operations", &data.join("jar"))?
        ),
        &format!("{base}/api/v1/centre"),
    ])?;
    let total = serde_json::from_str::<serde_json::Value>(&contacts)
        .ok()
        .and_then(|c| c["overview"]["n_contacts"].as_u64())
        .unwrap_or(0);
    println!("contacts in the database: {total}");

    for (page, username) in [
        ("/team", "lead"),
        ("/team", "operations"),
        ("/operations", "operations"),
        ("/performance", "agent"),
    ] {
        let cookie = sign_in(&base, username, &data.join("jar"))?;
        let url = format!("{base}{page}");
        let header = format!("Cookie: {cookie}");
        let cold = Instant::now();
        let body = curl(&["-H", &header, &url])?;
        if !body.contains("<h1>") {
            bail!(
                "{page} as {username} did not render: {}",
                body.chars().take(200).collect::<String>()
            );
        }
        let cold_s = cold.elapsed().as_secs_f64();
        let output = Command::new("wrk")
            .args([
                "--latency",
                "-t",
                "2",
                "-c",
                CONNECTIONS,
                "-d",
                SECONDS,
                "--timeout",
                "30s",
                "-H",
                &header,
                &url,
            ])
            .output()
            .context("cannot run wrk")?;
        let report = String::from_utf8_lossy(&output.stdout);
        let percentile = |p: &str| {
            report
                .lines()
                .find(|l| l.trim_start().starts_with(p))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("?")
                .to_owned()
        };
        let rate = report
            .lines()
            .find(|l| l.starts_with("Requests/sec:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?");
        let failures = report
            .lines()
            .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
            .unwrap_or("none");
        println!(
            "{page} as {username}: cold {cold_s:.2} s; {CONNECTIONS} clients for {SECONDS}: p50 {}, p90 {}, p99 {} (target: under 100 ms), {rate} pages/s, errors: {failures}",
            percentile("50%"),
            percentile("90%"),
            percentile("99%"),
        );
    }
    Ok(())
}
