//! What Cargo knows about the workspace, from `cargo metadata`: its
//! packages with their targets and `rust-version`, and the target
//! directory (which honours `$CARGO_TARGET_DIR` and Cargo's configuration).

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, Result, ensure};
use serde::Deserialize;

use crate::{cargo_program, workspace_root};

/// The parts of `cargo metadata --format-version 1 --no-deps` that the
/// tasks read.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    /// The workspace's packages.
    pub(crate) packages: Vec<Package>,
    /// Cargo's target directory, an absolute path.
    pub(crate) target_directory: PathBuf,
}

/// One package of the workspace.
#[derive(Debug, Deserialize)]
pub(crate) struct Package {
    /// The package's name, such as `weft-benches`.
    pub(crate) name: String,
    /// The package's `rust-version`, if it declares one.
    pub(crate) rust_version: Option<String>,
    /// The path of the package's `Cargo.toml`.
    pub(crate) manifest_path: PathBuf,
    /// The package's targets, which Cargo lists sorted by name.
    pub(crate) targets: Vec<Target>,
}

/// One target of a package.
#[derive(Debug, Deserialize)]
pub(crate) struct Target {
    /// The target's name, such as `mutex`.
    pub(crate) name: String,
    /// What it is: `lib`, `bench`, `test`, ...
    pub(crate) kind: Vec<String>,
}

impl Metadata {
    /// Runs `cargo metadata` on the workspace.
    ///
    /// It runs from this process's directory, not the workspace root, so
    /// that a relative `$CARGO_TARGET_DIR` means what the user meant.
    pub(crate) fn read() -> Result<Metadata> {
        let output = std::process::Command::new(cargo_program())
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--manifest-path",
            ])
            .arg(workspace_root().join("Cargo.toml"))
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run `cargo metadata`")?;
        ensure!(
            output.status.success(),
            "`cargo metadata` failed ({})",
            output.status
        );
        serde_json::from_slice(&output.stdout).context("cannot read `cargo metadata`'s output")
    }

    /// The package called `name`.
    pub(crate) fn package(&self, name: &str) -> Result<&Package> {
        self.packages
            .iter()
            .find(|package| package.name == name)
            .with_context(|| format!("the workspace has no package `{name}`"))
    }
}
