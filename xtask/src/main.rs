//! `cargo xtask`: the project's own commands.
//! - `test`: every test (installs what the tests need when it can).
//! - `ci`: fmt check, clippy, then `test`, timing each stage.
//! - `bench`: the foundation benchmarks (docs/benchmarks.md).

mod bench;
mod bench_pages;
mod bench_pay;
mod tidy;

use anyhow::{Context, Result, bail};
use std::process::Command;
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("ci") => ci(),
        Some("bench") if args.get(1).map(String::as_str) == Some("pages") => {
            bench_pages::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("pay") => {
            bench_pay::run(&args[2..])
        }
        Some("bench") => bench::run(&args[1..]),
        Some("tidy") => tidy::check(&workspace_root()?).map(|()| println!("tidy: ok")),
        _ => bail!("usage: cargo xtask test|ci|bench [pages|pay]|tidy"),
    }
}

fn workspace_root() -> Result<std::path::PathBuf> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .context("xtask lives in the workspace")?
        .to_path_buf())
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    if let Ok(root) = workspace_root() {
        command.current_dir(root);
    }
    command
}

fn run_stage(name: &str, mut command: Command) -> Result<()> {
    let started = Instant::now();
    eprintln!("== {name}: {command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot run {name}"))?;
    eprintln!(
        "== {name}: {} in {:.1} s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{name} failed");
    }
    Ok(())
}

/// Runs every test. When CI=true, the PostgreSQL tests must have their database.
fn test(extra: &[String]) -> Result<()> {
    if std::env::var("CI").as_deref() == Ok("true")
        && std::env::var("MERIT_TEST_POSTGRES_URL").is_err()
    {
        bail!("CI=true but MERIT_TEST_POSTGRES_URL is not set: the PostgreSQL tests would not run");
    }
    install_browser()?;
    let mut command = cargo();
    command
        .args(["test", "--workspace", "--all-targets"])
        .args(extra);
    run_stage("test", command)
}

/// The browser tests drive Debian's Chromium through chromedriver, and the
/// PDF statement test renders PDFs with poppler's pdftoppm and pdftotext:
/// install them when missing (as root, with apt-get), or say what to install.
fn install_browser() -> Result<()> {
    const PACKAGES: [&str; 3] = ["chromium", "chromium-driver", "poppler-utils"];
    let present = |program: &str, version: &str| {
        Command::new(program)
            .arg(version)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if present("chromium", "--version")
        && present("chromedriver", "--version")
        && present("pdftoppm", "-v")
    {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        bail!(
            "the browser tests need Debian's {} (not installed; run `sudo apt-get install {}`, or run this command as root)",
            PACKAGES.join(" and "),
            PACKAGES.join(" ")
        );
    }
    let mut update = Command::new("apt-get");
    update.args(["-q", "update"]);
    run_stage("apt-get update", update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["-q", "install", "-y"])
        .args(PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run_stage("install the browser and poppler", install)
}

fn ci() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run_stage("fmt", fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run_stage("clippy", clippy)?;
    test(&[])
}
