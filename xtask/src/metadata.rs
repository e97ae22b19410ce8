//! What Cargo knows about the workspace, from `cargo metadata`: its
//! packages (or, with [`Metadata::read_with_dependencies`], every package
//! its lock file pins too) with their targets, `rust-version`, edition and
//! dependencies, and the target directory (which honours
//! `$CARGO_TARGET_DIR` and Cargo's configuration).

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, Result, ensure};
use serde::Deserialize;

use crate::{cargo_program, workspace_root};

/// The parts of `cargo metadata --format-version 1` that the tasks read.
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
    /// The package's version, such as `0.1.0`.
    pub(crate) version: String,
    /// The package's Rust edition, such as `2021`.
    #[serde(default)]
    pub(crate) edition: String,
    /// The package's `rust-version`, if it declares one.
    pub(crate) rust_version: Option<String>,
    /// The path of the package's `Cargo.toml`.
    pub(crate) manifest_path: PathBuf,
    /// The package's targets, which Cargo lists sorted by name.
    pub(crate) targets: Vec<Target>,
    /// The package's dependencies, as its manifest declares them.
    #[serde(default)]
    pub(crate) dependencies: Vec<Dependency>,
}

/// One dependency of a package.
#[derive(Debug, Deserialize)]
pub(crate) struct Dependency {
    /// The package depended on, such as `rand`.
    pub(crate) name: String,
    /// The version requirement, such as `^0.8`.
    pub(crate) req: String,
    /// `dev` or `build`; `None` for a normal dependency.
    pub(crate) kind: Option<String>,
    /// Whether only a feature brings it in.
    pub(crate) optional: bool,
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
    /// Runs `cargo metadata --no-deps` on the workspace: its own packages.
    pub(crate) fn read() -> Result<Metadata> {
        Self::run(&["--no-deps"])
    }

    /// Runs `cargo metadata` on the workspace with every package that its
    /// lock file pins, whose sources must be on this machine already (run
    /// `cargo fetch` first).
    pub(crate) fn read_with_dependencies() -> Result<Metadata> {
        Self::run(&["--offline"])
    }

    /// Runs `cargo metadata` with `args` added.
    ///
    /// It runs from this process's directory, not the workspace root, so
    /// that a relative `$CARGO_TARGET_DIR` means what the user meant.
    fn run(args: &[&str]) -> Result<Metadata> {
        let output = std::process::Command::new(cargo_program())
            .args(["metadata", "--format-version", "1"])
            .args(args)
            .arg("--manifest-path")
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
