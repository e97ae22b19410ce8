//! The tests of crossbeam-channel's suite that the `crossbeam-suite` task
//! leaves out: each checks a behaviour that weft-queue documents as
//! different from crossbeam-channel's. weft-queue's README lists the same
//! tests with the same reasons, under "Differences from crossbeam-channel"
//! (a test below checks that it names each). Nothing else is left out.

/// A test left out, and why.
#[derive(Debug)]
pub(crate) struct Skip {
    /// The test file, without `.rs`.
    pub(crate) file: &'static str,
    /// The test's full name within it, as libtest prints it.
    pub(crate) test: &'static str,
    /// The difference it checks, as weft-queue's README states it.
    pub(crate) why: &'static str,
}

/// Every test left out.
pub(crate) const SKIPS: &[Skip] = &[];

#[cfg(test)]
mod tests {
    use super::SKIPS;

    /// The README of weft-queue names every test left out, in its section
    /// on the differences.
    #[test]
    fn the_queue_readme_lists_every_skip() {
        let readme = include_str!("../../../queue/README.md");
        let differences = readme
            .split_once("## Differences from crossbeam-channel")
            .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest));
        for skip in SKIPS {
            let listed = differences
                .is_some_and(|text| text.contains(&format!("`{}::{}`", skip.file, skip.test)));
            assert!(
                listed,
                "queue/README.md's \"Differences from crossbeam-channel\" does not name `{}::{}`",
                skip.file, skip.test
            );
        }
    }
}
