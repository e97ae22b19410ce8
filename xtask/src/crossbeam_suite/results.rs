//! What each test file's run gave, read from libtest's output, and the
//! report: a line per file and the totals.

use std::time::Duration;

/// How a test binary ended.
pub(super) enum End {
    /// It exited successfully.
    Passed,
    /// It exited unsuccessfully, with this status.
    Failed(String),
    /// It was stopped after this long.
    TimedOut(Duration),
}

/// One test file and what became of it.
pub(super) struct FileResult {
    /// The file's name without `.rs`.
    pub(super) file: String,
    pub(super) outcome: Outcome,
}

/// What became of one test file.
pub(super) enum Outcome {
    /// It did not compile: the first errors.
    NotCompiled(String),
    /// It ran.
    Ran(Counts),
}

/// The counts of one test file's run.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) passed: usize,
    pub(super) failed: usize,
    /// Left out by [`super::SKIPS`] (libtest's "filtered out").
    pub(super) skipped: usize,
    /// The failed tests' names.
    pub(super) failures: Vec<String>,
    /// The tests that failed beside others and passed when run again
    /// alone; counted in `passed`.
    pub(super) passed_alone: Vec<String>,
    /// What else went wrong: a timeout, or an exit without a summary.
    pub(super) problem: Option<String>,
}

impl Counts {
    /// Counts the failed `test` as passed: it passed when run again alone.
    pub(super) fn passed_alone(&mut self, test: &str) {
        if let Some(i) = self.failures.iter().position(|f| f == test) {
            self.failures.remove(i);
            self.failed -= 1;
            self.passed += 1;
            self.passed_alone.push(test.to_owned());
        }
    }
}

/// Whether `line` is libtest's line for a passing test, which the echo
/// leaves out.
pub(super) fn is_passing_line(line: &str) -> bool {
    line.starts_with("test ") && line.ends_with(" ... ok")
}

/// Reads libtest's output `text` of a binary that ended as `end`.
pub(super) fn parse(text: &str, end: &End) -> Outcome {
    let mut counts = Counts::default();
    let mut summary = false;
    let mut running = Vec::new();
    let mut ok_lines = 0;
    for line in text.lines() {
        if is_passing_line(line) {
            ok_lines += 1;
        } else if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" ... FAILED"))
        {
            counts.failures.push(name.to_owned());
        } else if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" has been running for over 60 seconds"))
        {
            running.push(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("test result: ") {
            summary = true;
            // `ok. 3 passed; 1 failed; 0 ignored; 0 measured; 2 filtered
            // out; finished in 0.52s`
            for part in rest.split(';') {
                let part = part.rsplit(". ").next().unwrap_or(part).trim();
                let Some((n, what)) = part.split_once(' ') else {
                    continue;
                };
                let Ok(n) = n.parse::<usize>() else {
                    continue;
                };
                match what {
                    "passed" => counts.passed = n,
                    "failed" => counts.failed = n,
                    "filtered out" => counts.skipped = n,
                    _ => {}
                }
            }
        }
    }
    if !summary {
        counts.passed = ok_lines;
        counts.failed = counts.failures.len();
    }
    counts.problem = match end {
        End::TimedOut(after) => Some(format!(
            "stopped after {} s{}",
            after.as_secs(),
            if running.is_empty() {
                String::new()
            } else {
                format!(", still running: {}", running.join(", "))
            }
        )),
        End::Failed(status) if !summary => Some(format!("ended without a summary ({status})")),
        End::Failed(status) if counts.failed == 0 => Some(format!("failed ({status})")),
        End::Passed if !summary => Some("ended without a summary".into()),
        End::Failed(_) | End::Passed => None,
    };
    Outcome::Ran(counts)
}

/// The counts over all files.
#[derive(Debug, Default)]
pub(super) struct Totals {
    passed: usize,
    failed: usize,
    skipped: usize,
    passed_alone: usize,
    not_compiled: usize,
    other_problems: usize,
}

impl Totals {
    pub(super) fn of(results: &[FileResult]) -> Self {
        let mut totals = Self::default();
        for result in results {
            match &result.outcome {
                Outcome::NotCompiled(_) => totals.not_compiled += 1,
                Outcome::Ran(counts) => {
                    totals.passed += counts.passed;
                    totals.failed += counts.failed;
                    totals.skipped += counts.skipped;
                    totals.passed_alone += counts.passed_alone.len();
                    totals.other_problems += usize::from(counts.problem.is_some());
                }
            }
        }
        totals
    }

    pub(super) fn is_success(&self) -> bool {
        self.failed == 0 && self.not_compiled == 0 && self.other_problems == 0
    }

    /// `crossbeam-suite: N passed, N failed, N skipped`, how many passed
    /// only alone, and the files that did not compile or did not finish,
    /// if any.
    pub(super) fn line(&self) -> String {
        let mut line = format!(
            "crossbeam-suite: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        if self.passed_alone > 0 {
            line.push_str(&format!(
                " ({} of the passed only when run again alone)",
                self.passed_alone
            ));
        }
        if self.not_compiled > 0 {
            line.push_str(&format!("; {} files did not compile", self.not_compiled));
        }
        if self.other_problems > 0 {
            line.push_str(&format!(
                "; {} files did not finish cleanly",
                self.other_problems
            ));
        }
        line
    }
}

/// The files that failed in any way.
pub(super) fn failed_files(results: &[FileResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| match &r.outcome {
            Outcome::NotCompiled(_) => true,
            Outcome::Ran(c) => c.failed > 0 || c.problem.is_some(),
        })
        .map(|r| format!("{}.rs", r.file))
        .collect()
}

/// A line per file: its counts and what failed; a file that did not
/// compile shows its first errors.
pub(super) fn table(results: &[FileResult]) -> String {
    let mut text = format!(
        "{:<20} {:>7} {:>7} {:>8}\n",
        "file", "passed", "failed", "skipped"
    );
    for result in results {
        let name = format!("{}.rs", result.file);
        match &result.outcome {
            Outcome::NotCompiled(errors) => {
                text.push_str(&format!("{name:<20} does not compile:\n"));
                for line in errors.lines().take(12) {
                    text.push_str(&format!("    {line}\n"));
                }
            }
            Outcome::Ran(c) => {
                text.push_str(&format!(
                    "{name:<20} {:>7} {:>7} {:>8}\n",
                    c.passed, c.failed, c.skipped
                ));
                for failure in &c.failures {
                    text.push_str(&format!("    failed: {failure}\n"));
                }
                for test in &c.passed_alone {
                    text.push_str(&format!("    passed only when run again alone: {test}\n"));
                }
                if let Some(problem) = &c.problem {
                    text.push_str(&format!("    {problem}\n"));
                }
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILING_RUN: &str = "
running 4 tests
test smoke ... ok
test recv ... FAILED
test fairness ... ok
test stress ... ok

failures:

---- recv stdout ----
thread 'recv' panicked at tests/array.rs:10:5:
assertion failed

failures:
    recv

test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 2 filtered out; finished in 0.52s
";

    fn counts(outcome: Outcome) -> Counts {
        match outcome {
            Outcome::Ran(counts) => counts,
            Outcome::NotCompiled(_) => panic!("a run, not a build"),
        }
    }

    #[test]
    fn a_summary_gives_the_counts_and_the_failures_their_names() {
        let c = counts(parse(FAILING_RUN, &End::Failed("exit status: 101".into())));
        assert_eq!(
            c,
            Counts {
                passed: 3,
                failed: 1,
                skipped: 2,
                failures: vec!["recv".into()],
                passed_alone: vec![],
                problem: None,
            }
        );
        assert!(!is_passing_line("test recv ... FAILED"));
        assert!(is_passing_line("test smoke ... ok"));
    }

    #[test]
    fn a_run_stopped_early_counts_what_it_printed_and_says_why() {
        let text = "running 3 tests\ntest a ... ok\ntest b has been running for over 60 seconds\n";
        let c = counts(parse(text, &End::TimedOut(Duration::from_secs(120))));
        assert_eq!((c.passed, c.failed), (1, 0));
        assert_eq!(
            c.problem.as_deref(),
            Some("stopped after 120 s, still running: b")
        );
        let c = counts(parse(text, &End::Failed("signal: 6 (SIGABRT)".into())));
        assert_eq!(
            c.problem.as_deref(),
            Some("ended without a summary (signal: 6 (SIGABRT))")
        );
    }

    #[test]
    fn a_test_that_passes_alone_counts_as_passed_and_is_named() {
        let mut c = counts(parse(FAILING_RUN, &End::Failed("exit status: 101".into())));
        c.passed_alone("recv");
        assert_eq!((c.passed, c.failed), (4, 0));
        assert!(c.failures.is_empty());
        let results = [FileResult {
            file: "array".into(),
            outcome: Outcome::Ran(c),
        }];
        let totals = Totals::of(&results);
        assert!(totals.is_success());
        assert_eq!(
            totals.line(),
            "crossbeam-suite: 4 passed, 0 failed, 2 skipped (1 of the passed only when run again alone)"
        );
        assert!(table(&results).contains("passed only when run again alone: recv"));
    }

    #[test]
    fn totals_fail_on_a_failed_test_a_file_not_compiled_or_a_problem() {
        let ran = |failed, problem: Option<&str>| FileResult {
            file: "array".into(),
            outcome: Outcome::Ran(Counts {
                passed: 5,
                failed,
                skipped: 1,
                failures: vec![],
                passed_alone: vec![],
                problem: problem.map(Into::into),
            }),
        };
        let clean = [ran(0, None), ran(0, None)];
        let totals = Totals::of(&clean);
        assert!(totals.is_success());
        assert_eq!(
            totals.line(),
            "crossbeam-suite: 10 passed, 0 failed, 2 skipped"
        );
        assert!(!Totals::of(&[ran(1, None)]).is_success());
        assert!(!Totals::of(&[ran(0, Some("stopped"))]).is_success());
        let not_compiled = FileResult {
            file: "select".into(),
            outcome: Outcome::NotCompiled("error[E0432]".into()),
        };
        let totals = Totals::of(&[ran(0, None), not_compiled]);
        assert!(!totals.is_success());
        assert_eq!(
            totals.line(),
            "crossbeam-suite: 5 passed, 0 failed, 1 skipped; 1 files did not compile"
        );
    }
}
