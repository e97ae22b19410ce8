//! The command line of `cargo xtask bench`.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use super::report::model::Mode;

/// Run the criterion benchmarks and print one Markdown table comparing Weft
/// with its peers.
///
/// Runs the benchmarks of `weft-benches`: every scenario of every crate,
/// Weft and its peers back to back, the queue's each in a process of its
/// own. Writes to `<target>/weft-bench/`: `report.md`, the printed report
/// (`summary.md` holds the same text); `report.json`, the raw estimates
/// (median and mean with confidence intervals); `report.svg`, a chart of
/// the ratios per scenario and of the thread sweeps; and
/// `criterion-output.txt`, criterion's own output.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Criterion's quick mode: about a minute after compiling, rough
    /// figures, flagged as such in the report.
    #[arg(long)]
    pub(crate) quick: bool,

    /// Measure everything N times over (one whole pass after another) and
    /// report, for each benchmark, the median of the N passes' medians,
    /// with their range in report.json. On a small machine a single pass is
    /// one draw, and three passes settle which way a close ratio goes.
    #[arg(long, value_name = "N", default_value_t = NonZeroUsize::MIN)]
    pub(crate) runs: NonZeroUsize,

    /// Also print how each Weft time and ratio changed against an earlier
    /// report.json (keep a copy of the one to compare with: every run
    /// overwrites target/weft-bench/report.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,

    /// A bench target (`queue`, a `[[bench]]` name in benches/Cargo.toml),
    /// or a benchmark id prefix within one (`mutex/contended`); several may
    /// be given. None: every benchmark.
    #[arg(value_name = "FILTER")]
    pub(crate) filters: Vec<String>,
}

impl Args {
    /// How long criterion measures each benchmark.
    pub(crate) fn mode(&self) -> Mode {
        if self.quick { Mode::Quick } else { Mode::Full }
    }
}

#[cfg(test)]
mod tests {
    use std::iter;

    use clap::error::ErrorKind;
    use clap::{CommandFactory, Parser};

    use super::*;

    /// `Args` as a whole command line, the way `cargo xtask bench` sees it.
    #[derive(Debug, Parser)]
    struct Bench {
        #[command(flatten)]
        args: Args,
    }

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Bench::try_parse_from(iter::once("bench").chain(args.iter().copied())).map(|b| b.args)
    }

    #[test]
    fn parses_options_and_filters() {
        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.mode(), Mode::Full);
        assert_eq!(defaults.runs.get(), 1);
        assert!(defaults.baseline.is_none() && defaults.filters.is_empty());

        let args = parse(&["--quick", "mutex", "--baseline", "old.json", "queue/spsc"]).unwrap();
        assert_eq!(args.mode(), Mode::Quick);
        assert_eq!(args.filters, ["mutex", "queue/spsc"]);
        assert_eq!(args.baseline, Some(PathBuf::from("old.json")));

        let args = parse(&["--baseline=a/report.json", "--runs", "3"]).unwrap();
        assert_eq!(args.baseline, Some(PathBuf::from("a/report.json")));
        assert_eq!(args.runs.get(), 3);
        assert_eq!(parse(&["--runs=2"]).unwrap().runs.get(), 2);
    }

    #[test]
    fn refuses_bad_arguments() {
        for (args, kind) in [
            (&["--fast"][..], ErrorKind::UnknownArgument),
            (&["--baseline"], ErrorKind::InvalidValue),
            (&["--baseline="], ErrorKind::InvalidValue),
            (
                &["--baseline", "a", "--baseline", "b"],
                ErrorKind::ArgumentConflict,
            ),
            (&["--runs"], ErrorKind::InvalidValue),
            (&["--runs", "0"], ErrorKind::ValueValidation),
            (&["--runs=two"], ErrorKind::ValueValidation),
            (&["--help"], ErrorKind::DisplayHelp),
        ] {
            let error = parse(args).unwrap_err();
            assert_eq!(error.kind(), kind, "{args:?}: {error}");
        }
    }

    #[test]
    fn help_describes_every_option() {
        let help = Bench::command().render_long_help().to_string();
        for option in [
            "--quick",
            "--runs <N>",
            "--baseline <FILE>",
            "[FILTER]...",
            "--help",
        ] {
            assert!(help.contains(option), "{option} is missing from:\n{help}");
        }
    }
}
