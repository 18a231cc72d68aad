//! Checks of the workspace's shape: the dependency rules of ENGINEERING.md
//! and matching migration file names in both dialects. Run by `cargo test`.

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
