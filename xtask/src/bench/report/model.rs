//! The data of one run: where and how it ran, and what it measured; and
//! `report.json`, which holds it for a later run's `--baseline`.
//!
//! Every bench follows one naming convention, which is what lets the
//! report pair Weft with its peers: the criterion group id is
//! `<crate>/<scenario>` (for example `mutex/uncontended`) and the function
//! id is the implementation's name, `weft` for ours and anything else
//! (`std`, `parking_lot`, ...) for a peer. A thread-count sweep is a group
//! `<crate>/<scenario>_sweep` whose benchmarks carry the thread count as
//! their criterion parameter, so its rows read `contended_sweep/4`.

use std::io;

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The function id that marks Weft's own implementation in every bench group.
pub(crate) const WEFT: &str = "weft";

/// The `format` field that identifies a `report.json`.
const REPORT_FORMAT: &str = "weft-bench-report";

/// The version of `report.json`'s layout that this task writes and reads.
const REPORT_VERSION: u32 = 1;

/// How long criterion measures each benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// The default: half a second of warm-up and one and a half of
    /// measurement per benchmark, about 2.2 seconds each with the analysis.
    /// 20 000 bootstrap resamples (criterion's default is 100 000) are
    /// plenty for a 95% interval and save a tenth of a second each.
    Full,
    /// Criterion's quick mode: it doubles the iteration count until two
    /// runs agree within 5%, for at most 0.3 s, with no warm-up, so every
    /// benchmark takes between 0.1 and 0.3 s.
    Quick,
}

impl Mode {
    /// The measurement arguments passed to each criterion bench binary,
    /// after `--`; they override the bench files' own settings.
    pub(crate) fn criterion_args(self) -> &'static [&'static str] {
        match self {
            Mode::Full => &[
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "1.5",
                "--nresamples",
                "20000",
            ],
            Mode::Quick => &[
                "--quick",
                "--measurement-time",
                "0.3",
                "--nresamples",
                "5000",
            ],
        }
    }

    /// The mode's name as shown in the report and written in `report.json`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Quick => "quick",
        }
    }
}

/// Where and how the benchmarks ran, shown above the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Environment {
    /// The CPU model and architecture.
    pub(crate) machine: String,
    /// The number of logical cores this process may use.
    pub(crate) logical_cores: String,
    /// The total memory.
    pub(crate) memory: String,
    /// The operating system's name.
    pub(crate) os: String,
    /// The output of `rustc -V`.
    pub(crate) rustc: String,
    /// The date of the run, in UTC.
    pub(crate) date: String,
    /// The measurement mode.
    pub(crate) mode: Mode,
    /// The mode's criterion arguments, space-separated.
    pub(crate) criterion_args: String,
    /// How many whole passes were measured; each time is the median of
    /// the passes' medians. Written as a string; reports from before
    /// `--runs` existed have none, and measured one pass.
    #[serde(default = "one_pass", with = "count_as_string")]
    pub(crate) runs: usize,
    /// The benchmarks that ran: bench targets, or filters.
    pub(crate) benches: String,
}

/// One statistic as criterion estimated it, in nanoseconds: the point
/// estimate and the bounds of its bootstrapped confidence interval. A
/// number that was not finite is written as `null` and read back as NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Estimate {
    /// The point estimate.
    #[serde(rename = "estimate", deserialize_with = "nan_if_null")]
    pub(crate) point: f64,
    /// The lower bound of the confidence interval.
    #[serde(deserialize_with = "nan_if_null")]
    pub(crate) lower: f64,
    /// The upper bound of the confidence interval.
    #[serde(deserialize_with = "nan_if_null")]
    pub(crate) upper: f64,
}

/// One benchmark result: how long one implementation took in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Measurement {
    /// The Weft crate the scenario belongs to, such as `mutex`.
    #[serde(rename = "crate")]
    pub(crate) krate: String,
    /// The scenario within that crate, such as `uncontended` or
    /// `contended_sweep/4`.
    pub(crate) scenario: String,
    /// The implementation measured: `weft`, or a peer such as `std`.
    pub(crate) implementation: String,
    /// The median time per iteration: the figure every table shows.
    #[serde(rename = "median_ns")]
    pub(crate) median: Estimate,
    /// The mean time per iteration, kept in `report.json` for reference.
    #[serde(rename = "mean_ns")]
    pub(crate) mean: Estimate,
    /// The confidence level of both intervals, such as 0.95.
    #[serde(deserialize_with = "nan_if_null")]
    pub(crate) confidence_level: f64,
}

/// Everything one run produced: where it ran, and what it measured in run
/// order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Report {
    /// The machine, compiler, date and mode of the run.
    pub(crate) environment: Environment,
    /// The results, in the order criterion ran them.
    #[serde(rename = "results")]
    pub(crate) measurements: Vec<Measurement>,
}

impl Report {
    /// Writes the report as `report.json`: the format and version, the
    /// environment, then one result per line so that two reports diff well.
    pub(crate) fn to_json(&self) -> Result<String> {
        let environment = serde_json::to_string_pretty(&self.environment)?;
        let mut results = Vec::with_capacity(self.measurements.len());
        for measurement in &self.measurements {
            let mut line = Vec::new();
            measurement.serialize(&mut serde_json::Serializer::with_formatter(
                &mut line, OneLine,
            ))?;
            results.push(String::from_utf8(line)?);
        }
        Ok(format!(
            "{{\n  \"format\": \"{REPORT_FORMAT}\",\n  \"version\": {REPORT_VERSION},\n  \
             \"environment\": {},\n  \"results\": [\n    {}\n  ]\n}}\n",
            environment.replace('\n', "\n  "),
            results.join(",\n    ")
        ))
    }

    /// Reads a report written by `to_json`, explaining what is wrong with
    /// a file that is not one.
    pub(crate) fn from_json(text: &str) -> Result<Report> {
        let json: Value = serde_json::from_str(text).context("not valid JSON")?;
        ensure!(
            json["format"] == REPORT_FORMAT,
            "not a report.json of `cargo xtask bench` (no \"format\": \"{REPORT_FORMAT}\")"
        );
        match json["version"].as_f64() {
            Some(version) if version == f64::from(REPORT_VERSION) => {}
            Some(version) => bail!(
                "report.json version {version} is not supported; this xtask reads version \
                 {REPORT_VERSION}"
            ),
            None => bail!("report.json has no number `version`"),
        }
        serde_json::from_value(json).context("report.json is not as this xtask writes it")
    }
}

/// Splits a sweep scenario such as `contended_sweep/4` into the sweep's
/// name (`contended_sweep`) and its thread count (4). Any other scenario
/// gives `None`.
pub(crate) fn sweep_point(scenario: &str) -> Option<(&str, u32)> {
    let (name, threads) = scenario.rsplit_once('/')?;
    if !name.ends_with("_sweep") {
        return None;
    }
    Some((name, threads.parse().ok()?))
}

/// A JSON formatter that writes everything on one line, with a space after
/// each `:` and `,`, the way people write JSON by hand.
struct OneLine;

impl serde_json::ser::Formatter for OneLine {
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// The number of passes of a report that does not say.
fn one_pass() -> usize {
    1
}

/// Writes a count as a string, and reads it back, refusing zero.
mod count_as_string {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        count: &usize,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(count)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<usize, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .ok()
            .filter(|&count| count > 0)
            .ok_or_else(|| D::Error::custom(format!("`{text}` is not a count of passes")))
    }
}

/// Reads a number, or `null` as NaN: `serde_json` writes a number that is
/// not finite as `null`, since JSON has no NaN or infinity.
fn nan_if_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::{environment, measurement};

    #[test]
    fn recognises_sweep_points() {
        assert_eq!(
            sweep_point("contended_sweep/4"),
            Some(("contended_sweep", 4))
        );
        assert_eq!(
            sweep_point("mpmc_bounded1_sweep/8"),
            Some(("mpmc_bounded1_sweep", 8))
        );
        assert_eq!(sweep_point("contended_sweep"), None);
        assert_eq!(sweep_point("mpmc/4"), None);
        assert_eq!(sweep_point("contended_sweep/many"), None);
    }

    #[test]
    fn report_json_round_trips() {
        let mut std = measurement("mutex", "uncontended", "std", 26.4);
        std.median = Estimate {
            point: 26.4,
            lower: 26.1,
            upper: 26.7,
        };
        let mut odd = measurement("queue", "mpmc_bounded1_sweep/8", "std", 1_234.567_89);
        odd.mean.upper = f64::INFINITY;
        let report = Report {
            environment: Environment {
                os: "Name with \"quotes\" and \\ backslash".to_string(),
                runs: 3,
                ..environment(Mode::Quick)
            },
            measurements: vec![
                measurement("mutex", "uncontended", "weft", 4.361_862_838_268_28),
                std,
                odd,
            ],
        };
        let text = report.to_json().unwrap();
        let read = Report::from_json(&text).unwrap();
        assert_eq!(read.environment, report.environment);
        // A report from before `--runs` has no `runs`: one pass.
        let old_style: String = text
            .lines()
            .filter(|line| !line.contains("\"runs\""))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(Report::from_json(&old_style).unwrap().environment.runs, 1);
        assert_eq!(read.measurements[..2], report.measurements[..2]);
        // A number that was not finite is written as `null` and reads as NaN.
        assert!(read.measurements[2].mean.upper.is_nan());
        assert_eq!(read.measurements[2].median, report.measurements[2].median);

        // One result per line, after the header facts.
        assert!(text.starts_with(
            "{\n  \"format\": \"weft-bench-report\",\n  \"version\": 1,\n  \"environment\": {\n    \"machine\": \"Test CPU (x86_64)\",\n"
        ));
        assert!(text.contains(
            "\n    {\"crate\": \"mutex\", \"scenario\": \"uncontended\", \"implementation\": \"std\", \
             \"median_ns\": {\"estimate\": 26.4, \"lower\": 26.1, \"upper\": 26.7}, "
        ));
        assert!(text.contains("\"criterion_args\": \"--quick"));
        assert!(text.contains("\"runs\": \"3\""));
        assert!(text.ends_with("\"confidence_level\": 0.95}\n  ]\n}\n"));
    }

    #[test]
    fn report_json_errors_name_the_problem() {
        let report = Report {
            environment: environment(Mode::Full),
            measurements: vec![measurement("mutex", "uncontended", "weft", 4.0)],
        };
        let good = report.to_json().unwrap();
        let error = |text: &str| format!("{:#}", Report::from_json(text).unwrap_err());
        assert!(error("{").starts_with("not valid JSON: "));
        assert!(error("{}").starts_with("not a report.json of `cargo xtask bench`"));
        assert_eq!(
            error(&good.replace("\"version\": 1", "\"version\": 2")),
            "report.json version 2 is not supported; this xtask reads version 1"
        );
        let broken = [
            (
                "\"mode\": \"full\"",
                "\"mode\": \"slow\"",
                "unknown variant `slow`",
            ),
            ("\"rustc\"", "\"compiler\"", "missing field `rustc`"),
            ("\"lower\"", "\"low\"", "missing field `lower`"),
            (
                "\"crate\": \"mutex\"",
                "\"crate\": 7",
                "invalid type: integer `7`",
            ),
            (
                "\"runs\": \"1\"",
                "\"runs\": \"0\"",
                "`0` is not a count of passes",
            ),
        ];
        for (from, to, reason) in broken {
            let message = error(&good.replace(from, to));
            assert!(
                message.starts_with("report.json is not as this xtask writes it: ")
                    && message.contains(reason),
                "{message}"
            );
        }
    }
}
