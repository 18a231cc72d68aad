//! Checks of the workspace's shape: the dependency rules of ENGINEERING.md,
//! matching migration file names in both dialects, and `unsafe` allowed in
//! one file only. Run by `cargo test`.

use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// (crate, crates it must not depend on, even transitively).
pub const RULES: [(&str, &[&str]); 5] = [
    ("merit-domain", &["tokio", "sqlx", "axum", "csv", "clap"]),
    ("merit-import", &["sqlx", "axum", "tokio"]),
    ("merit-store", &["axum", "clap", "merit-service"]),
    ("merit-service", &["axum", "clap"]),
    ("merit-web", &["clap"]),
];

/// Normal (non-dev, non-build) dependency graph by package name, from `cargo metadata`.
fn dependency_graph(root: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["metadata", "--format-version", "1"])
        .output()
        .context("cannot run cargo metadata")?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata output")?;
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let mut graph = BTreeMap::new();
    for node in metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(name) = node["id"].as_str().and_then(|id| names.get(id)) else {
            continue;
        };
        let deps: BTreeSet<String> = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| {
                d["pkg"]
                    .as_str()
                    .and_then(|id| names.get(id))
                    .map(|n| n.to_string())
            })
            .collect();
        graph
            .entry(name.to_string())
            .or_insert_with(BTreeSet::new)
            .extend(deps);
    }
    Ok(graph)
}

fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(name) = stack.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

/// The only file that may allow `unsafe_code` (denied workspace-wide): the
/// SQLite bulk insert adopts sqlx's connection handle there.
pub const UNSAFE_ALLOWED_IN: &str = "crates/merit-store/src/sqlite_bulk.rs";

/// Rust files under `dir` (skipping `target`) that allow `unsafe_code`.
fn files_allowing_unsafe(root: &Path, dir: &Path, found: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n != "target" && n != ".git")
            {
                files_allowing_unsafe(root, &path, found)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && std::fs::read_to_string(&path)?.contains(concat!("allow(", "unsafe_code)"))
        {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            found.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn migration_names(dir: &Path) -> Result<BTreeSet<String>> {
    std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect()
}

pub fn check(root: &Path) -> Result<()> {
    let graph = dependency_graph(root)?;
    let mut broken = Vec::new();
    for (krate, forbidden) in RULES {
        let deps = reachable(&graph, krate);
        if deps.is_empty() {
            broken.push(format!("{krate} is not in the workspace graph"));
        }
        for f in forbidden {
            if deps.contains(*f) {
                broken.push(format!("{krate} depends on {f}"));
            }
        }
    }
    let migrations = root.join("crates/merit-store/migrations");
    let sqlite = migration_names(&migrations.join("sqlite"))?;
    let postgres = migration_names(&migrations.join("postgres"))?;
    if sqlite != postgres {
        broken.push(format!(
            "migration folders differ: sqlite {sqlite:?}, postgres {postgres:?}"
        ));
    }
    let mut allowing_unsafe = Vec::new();
    for dir in ["crates", "xtask"] {
        files_allowing_unsafe(root, &root.join(dir), &mut allowing_unsafe)?;
    }
    for file in allowing_unsafe {
        if file != UNSAFE_ALLOWED_IN {
            broken.push(format!(
                "{file} allows unsafe code (only {UNSAFE_ALLOWED_IN} may)"
            ));
        }
    }
    if !broken.is_empty() {
        bail!("tidy: {}", broken.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_follows_the_dependency_rules_and_migrations_match() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        check(root).unwrap();
    }

    #[test]
    fn a_file_allowing_unsafe_code_is_found() {
        let root = tempfile_dir();
        let nested = root.join("crates/some-crate/src");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(nested.join("ok.rs"), "fn f() {}").unwrap();
        let allowing = concat!("#[allow(", "unsafe_code)]\nfn f() {}");
        std::fs::write(nested.join("raw.rs"), allowing).unwrap();
        let mut found = Vec::new();
        files_allowing_unsafe(&root, &root.join("crates"), &mut found).unwrap();
        assert_eq!(found, ["crates/some-crate/src/raw.rs"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// A fresh folder under the system's temporary directory.
    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("merit-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_forbidden_edge_is_found_transitively() {
        let graph: BTreeMap<String, BTreeSet<String>> = [
            (
                "merit-domain".to_string(),
                BTreeSet::from(["helper".to_string()]),
            ),
            ("helper".to_string(), BTreeSet::from(["tokio".to_string()])),
        ]
        .into_iter()
        .collect();
        assert!(reachable(&graph, "merit-domain").contains("tokio"));
    }
}
