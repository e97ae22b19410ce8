//! Which benchmarks to run: the bench targets of `weft-benches`, as
//! `cargo metadata` lists them, narrowed by the user's filters.

use std::path::Path;

use anyhow::{Result, bail};

use crate::metadata::Package;

/// The package that holds every benchmark, in the workspace directory `benches/`.
pub(crate) const BENCH_PACKAGE: &str = "weft-benches";

/// The order in which the benchmarks run and the report lists the crates:
/// the order of the course chapter, from the lock up to the algorithms
/// built on everything. Targets not named here come after, by name.
const CRATE_ORDER: [&str; 6] = [
    "mutex",
    "semaphore",
    "barrier",
    "queue",
    "pool",
    "algorithms",
];

/// The names of a package's bench targets, in [`CRATE_ORDER`].
pub(crate) fn bench_targets(package: &Package) -> Vec<String> {
    let mut targets: Vec<String> = package
        .targets
        .iter()
        .filter(|target| target.kind.iter().any(|kind| kind == "bench"))
        .map(|target| target.name.clone())
        .collect();
    targets.sort_by_key(|name| {
        let rank = CRATE_ORDER.iter().position(|c| c == name);
        (rank.unwrap_or(CRATE_ORDER.len()), name.clone())
    });
    targets
}

/// One bench target to run, and which of its benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    /// The bench target, such as `mutex`.
    pub(crate) target: String,
    /// The criterion filter (a regular expression over benchmark ids), or
    /// `None` to run the whole target.
    pub(crate) criterion_filter: Option<String>,
    /// The filters the user gave for this target, for messages.
    pub(crate) filters: Vec<String>,
}

impl Selection {
    /// Names what runs: the target, or the user's filters within it.
    pub(crate) fn describe(&self) -> String {
        if self.filters.is_empty() {
            self.target.clone()
        } else {
            self.filters.join(", ")
        }
    }
}

/// Turns the user's filters into the bench targets to run, in the order of
/// `targets`.
///
/// A filter is either a target name (`queue`: all of it) or starts with
/// one and a slash (`mutex/contended`: the benchmarks whose id contains
/// it, which for an id prefix means the ids that start with it).
pub(crate) fn select(
    filters: &[String],
    targets: &[String],
    manifest_path: &Path,
) -> Result<Vec<Selection>> {
    let target_of = |filter: &str| filter.split('/').next().unwrap_or_default().to_owned();
    for filter in filters {
        if !targets.contains(&target_of(filter)) {
            bail!(unknown_filter_message(filter, targets, manifest_path));
        }
    }
    let mut selections = Vec::new();
    for target in targets {
        let mine: Vec<&String> = filters.iter().filter(|f| target_of(f) == *target).collect();
        if !filters.is_empty() && mine.is_empty() {
            continue;
        }
        // A whole target wins over a prefix within it.
        let whole = mine.is_empty() || mine.contains(&target);
        let criterion_filter = (!whole).then(|| {
            let patterns: Vec<String> = mine.iter().map(|filter| regex_escape(filter)).collect();
            patterns.join("|")
        });
        selections.push(Selection {
            target: target.clone(),
            criterion_filter,
            filters: if whole {
                Vec::new()
            } else {
                mine.into_iter().cloned().collect()
            },
        });
    }
    Ok(selections)
}

/// Escapes the characters that mean something in a regular expression, so
/// that criterion's filter matches `text` literally.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Explains that `filter` names no bench target, and lists the ones that exist.
fn unknown_filter_message(filter: &str, targets: &[String], manifest_path: &Path) -> String {
    let target = filter.split('/').next().unwrap_or(filter);
    let named = if target == filter {
        format!("`{filter}`")
    } else {
        format!("`{target}` (in `{filter}`)")
    };
    if targets.is_empty() {
        format!(
            "unknown bench target {named}: {} declares no `[[bench]]` targets",
            manifest_path.display()
        )
    } else {
        format!(
            "unknown bench target {named}; the bench targets in {} are: {}",
            manifest_path.display(),
            targets.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::strings;

    #[test]
    fn reads_bench_targets_from_cargo_metadata() {
        // A package as `cargo metadata --format-version 1` describes it,
        // shortened.
        let package: Package = serde_json::from_str(
            r#"{"name": "weft-benches", "version": "0.1.0", "rust_version": "1.85",
                "manifest_path": "/weft/benches/Cargo.toml", "targets": [
                {"kind": ["lib"], "crate_types": ["lib"], "name": "weft_benches"},
                {"kind": ["bench"], "crate_types": ["bin"], "name": "mutex"},
                {"kind": ["bench"], "crate_types": ["bin"], "name": "queue"},
                {"kind": ["test"], "crate_types": ["bin"], "name": "smoke"}]}"#,
        )
        .unwrap();
        assert_eq!(bench_targets(&package), ["mutex", "queue"]);
        assert_eq!(package.rust_version.as_deref(), Some("1.85"));
    }

    #[test]
    fn selects_targets_and_benchmark_prefixes() {
        let targets = strings(&["mutex", "queue", "semaphore"]);
        let manifest = Path::new("benches/Cargo.toml");
        let all = select(&[], &targets, manifest).unwrap();
        assert_eq!(all.len(), 3);
        assert!(
            all.iter()
                .all(|s| s.criterion_filter.is_none() && s.filters.is_empty())
        );

        // Targets run in the listed order, whatever the user's order.
        let chosen = select(
            &strings(&["queue/mpmc_bounded1_sweep", "mutex", "queue/spsc"]),
            &targets,
            manifest,
        )
        .unwrap();
        assert_eq!(
            chosen,
            [
                Selection {
                    target: "mutex".to_string(),
                    criterion_filter: None,
                    filters: Vec::new(),
                },
                Selection {
                    target: "queue".to_string(),
                    criterion_filter: Some("queue/mpmc_bounded1_sweep|queue/spsc".to_string()),
                    filters: strings(&["queue/mpmc_bounded1_sweep", "queue/spsc"]),
                },
            ]
        );
        assert_eq!(
            chosen[1].describe(),
            "queue/mpmc_bounded1_sweep, queue/spsc"
        );
        assert_eq!(chosen[0].describe(), "mutex");

        // A whole target wins over a prefix within it.
        let whole = select(
            &strings(&["mutex/uncontended", "mutex"]),
            &targets,
            manifest,
        )
        .unwrap();
        assert_eq!(whole[0].criterion_filter, None);

        assert_eq!(
            select(&strings(&["mutx/uncontended"]), &targets, manifest)
                .unwrap_err()
                .to_string(),
            "unknown bench target `mutx` (in `mutx/uncontended`); the bench targets in \
             benches/Cargo.toml are: mutex, queue, semaphore"
        );
        assert_eq!(regex_escape("a.b+c/d_e"), "a\\.b\\+c/d_e");
    }

    #[test]
    fn unknown_filter_lists_the_targets() {
        assert_eq!(
            unknown_filter_message("x", &[], Path::new("benches/Cargo.toml")),
            "unknown bench target `x`: benches/Cargo.toml declares no `[[bench]]` targets"
        );
    }
}
