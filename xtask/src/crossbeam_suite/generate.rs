//! The throw-away crate that runs crossbeam-channel's tests against
//! weft-queue: its manifest, its library and its copies of the tests.
//!
//! The package is named `crossbeam-channel`, so its library is
//! `crossbeam_channel` and the tests' `use crossbeam_channel::...` lines
//! find weft-queue's items, re-exported under crossbeam's names. It has a
//! `[workspace]` table of its own, so Cargo does not take it for a member
//! of Weft's workspace, which it sits inside (under `target/`).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, ensure};

use super::{Source, remove_dir};
use crate::workspace_root;

/// The generated library: weft-queue, under crossbeam-channel's names.
///
/// Every public name the tests use is weft-queue's own, with crossbeam's
/// spelling, so a glob re-export (which takes the macros along) covers
/// them. `tests/mpsc.rs` also calls `crossbeam_channel_internal!`, the
/// hidden macro behind crossbeam's `select!`, with `select!`'s grammar.
const LIB: &str = "\
//! weft-queue under crossbeam-channel's name, written by `cargo xtask
//! crossbeam-suite` so that crossbeam-channel's own tests run against it
//! unchanged.

pub use weft_queue::*;

/// crossbeam-channel's hidden macro behind `select!`, which its
/// `tests/mpsc.rs` calls directly: weft-queue's `select!`.
#[doc(hidden)]
#[macro_export]
macro_rules! crossbeam_channel_internal {
    ($($tokens:tt)*) => {
        $crate::select!($($tokens)*)
    };
}
";

/// Writes the crate to `dir`, with the tests of `source` copied in;
/// returns the test files' names without `.rs`, sorted.
///
/// Every run rewrites the manifest, the library and the tests. The lock
/// file is seeded from Weft's on the first run, so that the dependencies
/// the two share resolve to the versions Weft pins, and kept afterwards.
pub(super) fn write_crate(source: &Source, dir: &Path) -> Result<Vec<String>> {
    fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    write(&dir.join("Cargo.toml"), &manifest(source)?)?;
    write(&dir.join("src").join("lib.rs"), LIB)?;
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        let workspace_lock = workspace_root().join("Cargo.lock");
        fs::copy(&workspace_lock, &lock)
            .with_context(|| format!("cannot copy {}", workspace_lock.display()))?;
    }

    let tests = dir.join("tests");
    remove_dir(&tests)?;
    fs::create_dir_all(&tests).with_context(|| format!("cannot create {}", tests.display()))?;
    let from = source.dir.join("tests");
    let mut names = Vec::new();
    for entry in fs::read_dir(&from).with_context(|| format!("cannot list {}", from.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_name().context("a file without a name")?;
            fs::copy(&path, tests.join(name))
                .with_context(|| format!("cannot copy {}", path.display()))?;
            let stem = path.file_stem().and_then(|s| s.to_str());
            names.push(stem.context("a test file's name is not UTF-8")?.to_owned());
        }
    }
    ensure!(!names.is_empty(), "no test files in {}", from.display());
    names.sort();
    Ok(names)
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The generated crate's manifest: weft-queue from this workspace, and the
/// dependencies crossbeam's tests use, with crossbeam's requirements.
fn manifest(source: &Source) -> Result<String> {
    let queue = workspace_root().join("queue");
    let queue = queue
        .to_str()
        .context("the workspace's path is not UTF-8")?;
    ensure!(
        !queue.contains('\''),
        "the workspace's path holds a quote: {queue}"
    );
    Ok(manifest_text(
        &source.edition,
        queue,
        &source.test_dependencies,
    ))
}

/// The text of [`manifest`]. Paths and requirements are TOML literal
/// strings (single quotes), which need no escapes; none holds a quote.
fn manifest_text(edition: &str, queue_path: &str, dependencies: &[(String, String)]) -> String {
    let mut text = format!(
        "\
# Written by `cargo xtask crossbeam-suite` on every run: crossbeam-channel's
# own tests, run against weft-queue. Not part of Weft's workspace.

[package]
name = 'crossbeam-channel'
version = '0.0.0'
edition = '{edition}'
publish = false

[dependencies]
weft-queue = {{ path = '{queue_path}' }}

[dev-dependencies]
"
    );
    for (name, req) in dependencies {
        text.push_str(&format!("{name} = '{req}'\n"));
    }
    text.push_str(
        "
# Quicker to build without debug information; a failing test still says
# where it failed.
[profile.dev]
debug = false

[workspace]
",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_the_package_after_crossbeam_and_has_its_own_workspace() {
        let text = manifest_text(
            "2021",
            "/src/weft/queue",
            &[
                ("rand".into(), "^0.8".into()),
                ("crossbeam-utils".into(), "^0.8.18".into()),
            ],
        );
        assert!(text.contains("name = 'crossbeam-channel'"));
        assert!(text.contains("edition = '2021'"));
        assert!(text.contains("weft-queue = { path = '/src/weft/queue' }"));
        assert!(text.contains("[dev-dependencies]\nrand = '^0.8'\ncrossbeam-utils = '^0.8.18'\n"));
        assert!(text.contains("[profile.dev]\ndebug = false\n"));
        assert!(text.ends_with("\n[workspace]\n"));
    }
}
