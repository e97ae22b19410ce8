//! Reading what criterion 0.5 leaves behind: the result files under
//! `<target>/criterion`, and the lines it prints while it runs.
//!
//! For every benchmark, criterion writes a directory
//! `<group>/<function>[/<parameter>]/new/` holding `benchmark.json` (which
//! benchmark it was) and `estimates.json` (how long it took, with
//! bootstrapped confidence intervals). While it runs, it prints one
//! `time:` line per finished benchmark on standard output, which is what
//! the progress display counts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::report::model::{Estimate, Measurement};

/// Why a criterion result could not become a `Measurement`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParseError {
    /// The files are not what criterion 0.5 writes: bad JSON or missing fields.
    Format(String),
    /// The files are fine, but the benchmark's ids do not follow the
    /// `<crate>/<scenario>` group and implementation function convention.
    Convention(String),
}

/// The part of `benchmark.json` that names the benchmark.
#[derive(Debug, Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

/// The part of `estimates.json` the report keeps.
#[derive(Debug, Deserialize)]
struct EstimatesJson {
    median: Statistic,
    mean: Statistic,
}

/// One statistic of `estimates.json`.
#[derive(Debug, Deserialize)]
struct Statistic {
    point_estimate: f64,
    confidence_interval: Interval,
}

/// A statistic's bootstrapped confidence interval.
#[derive(Debug, Deserialize)]
struct Interval {
    confidence_level: f64,
    lower_bound: f64,
    upper_bound: f64,
}

impl Statistic {
    /// The statistic as the report keeps it.
    fn estimate(&self) -> Estimate {
        Estimate {
            point: self.point_estimate,
            lower: self.confidence_interval.lower_bound,
            upper: self.confidence_interval.upper_bound,
        }
    }
}

/// Builds a `Measurement` from the contents of a criterion `new/` directory's
/// `benchmark.json` and `estimates.json`.
///
/// A criterion parameter (`BenchmarkId::new("weft", 4)`, saved as
/// `value_str`) becomes part of the scenario name, as in
/// `contended_sweep/4`, so that parameterised benches still pair up by
/// scenario.
pub(crate) fn parse_measurement(
    benchmark_json: &str,
    estimates_json: &str,
) -> Result<Measurement, ParseError> {
    let benchmark: BenchmarkJson = serde_json::from_str(benchmark_json)
        .map_err(|error| ParseError::Format(format!("benchmark.json: {error}")))?;
    let estimates: EstimatesJson = serde_json::from_str(estimates_json)
        .map_err(|error| ParseError::Format(format!("estimates.json: {error}")))?;
    let group_id = &benchmark.group_id;
    let Some((krate, scenario)) = group_id.split_once('/') else {
        return Err(ParseError::Convention(format!(
            "group `{group_id}` is not named `<crate>/<scenario>`"
        )));
    };
    let Some(implementation) = benchmark.function_id else {
        return Err(ParseError::Convention(format!(
            "group `{group_id}` has a benchmark without a function id naming its implementation"
        )));
    };
    let scenario = match benchmark.value_str {
        Some(value) => format!("{scenario}/{value}"),
        None => scenario.to_string(),
    };
    Ok(Measurement {
        krate: krate.to_string(),
        scenario,
        implementation,
        median: estimates.median.estimate(),
        mean: estimates.mean.estimate(),
        confidence_level: estimates.median.confidence_interval.confidence_level,
    })
}

/// Reads every result under `criterion_dir`, in the order criterion ran them.
///
/// The run order is the order each bench file declares its scenarios and
/// implementations, which reads better than an alphabetical one
/// (`contended_16_threads` would sort before `contended_2_threads`). It is
/// recovered from the modification times of the `benchmark.json` files,
/// which criterion writes as each benchmark finishes; this is reliable
/// because the directory is emptied before every run. Equal times fall back
/// to path order.
///
/// A result that breaks the naming convention is skipped with a warning; a
/// file that cannot be read or parsed is an error, because it means
/// criterion's format is not what this task expects. A missing
/// `criterion_dir` means no results, which the caller reports.
pub(crate) fn read_results(criterion_dir: &Path) -> Result<Vec<Measurement>> {
    let mut new_dirs = Vec::new();
    match find_new_dirs(criterion_dir, &mut new_dirs) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound && new_dirs.is_empty() => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", criterion_dir.display()));
        }
    }

    let mut results = Vec::new();
    for dir in new_dirs {
        let benchmark_path = dir.join("benchmark.json");
        let read = |path: &Path| {
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        };
        let benchmark = read(&benchmark_path)?;
        let estimates = read(&dir.join("estimates.json"))?;
        let finished = fs::metadata(&benchmark_path)
            .and_then(|metadata| metadata.modified())
            .unwrap_or(UNIX_EPOCH);
        match parse_measurement(&benchmark, &estimates) {
            Ok(measurement) => results.push((finished, dir, measurement)),
            Err(ParseError::Convention(reason)) => {
                eprintln!("warning: skipping {}: {reason}", dir.display());
            }
            Err(ParseError::Format(reason)) => {
                bail!("unexpected criterion output in {}: {reason}", dir.display());
            }
        }
    }
    results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(results
        .into_iter()
        .map(|(_, _, measurement)| measurement)
        .collect())
}

/// Appends to `found` every directory named `new` under `dir` that holds a
/// `benchmark.json`, walking subdirectories in sorted order.
fn find_new_dirs(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if entry.file_name() == "new" && path.join("benchmark.json").is_file() {
            found.push(path);
        } else {
            find_new_dirs(&path, found)?;
        }
    }
    Ok(())
}

/// A benchmark that criterion has just finished, as announced on its
/// standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finished {
    /// The benchmark's id, such as `mutex/contended_sweep/weft/4`.
    pub(crate) id: String,
    /// Criterion's point estimate as it printed it, such as `10.2 ns`.
    pub(crate) time: String,
}

/// Recognises the line criterion prints when a benchmark finishes:
///
/// ```text
/// mutex/uncontended/weft  time:   [4.3605 ns 4.3619 ns 4.3633 ns]
/// ```
///
/// An id longer than 23 characters goes on a line of its own, and the
/// `time:` line that follows starts with spaces; `previous` is the line
/// before `line`, so that case is recognised too. Lines of any other shape
/// (outliers, a change against a saved baseline) give `None`.
pub(crate) fn finished_benchmark(line: &str, previous: &str) -> Option<Finished> {
    let (before, after) = line.split_once("time:")?;
    let interval = after.trim().strip_prefix('[')?.strip_suffix(']')?;
    let words: Vec<&str> = interval.split_whitespace().collect();
    // Three values, each a number and a unit: `[lower estimate upper]`.
    let [_, _, value, unit, _, _] = words.as_slice() else {
        return None;
    };
    let id = if before.trim().is_empty() {
        previous.trim()
    } else {
        before.trim()
    };
    if id.is_empty() || id.contains(char::is_whitespace) {
        return None;
    }
    Some(Finished {
        id: id.to_string(),
        time: format!("{value} {unit}"),
    })
}

/// The ids of the benchmarks in the output of a criterion bench run with
/// `--list`, which prints one `<id>: benchmark` line for each, in the
/// order they run.
pub(crate) fn listed_ids(list_output: &str) -> Vec<String> {
    list_output
        .lines()
        .filter_map(|line| line.trim_end().strip_suffix(": benchmark"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::measurement;

    /// `benchmark.json` as criterion 0.5 writes it for `mutex/uncontended/weft`.
    const BENCHMARK_WEFT: &str = r#"{"group_id":"mutex/uncontended","function_id":"weft","value_str":null,"throughput":null,"full_id":"mutex/uncontended/weft","directory_name":"mutex_uncontended/weft","title":"mutex/uncontended/weft"}"#;

    /// `estimates.json` as criterion 0.5 writes it, with a median of 10.2 ns.
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.1,"upper_bound":10.5},"point_estimate":10.3,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.05,"upper_bound":10.4},"point_estimate":10.2,"standard_error":0.1},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":0.08,"upper_bound":0.2},"point_estimate":0.14,"standard_error":0.03},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":0.2,"upper_bound":0.6},"point_estimate":0.41,"standard_error":0.1}}"#;

    /// The measurement `ESTIMATES` describes, for the given ids.
    fn fixture_measurement(krate: &str, scenario: &str, implementation: &str) -> Measurement {
        Measurement {
            median: Estimate {
                point: 10.2,
                lower: 10.05,
                upper: 10.4,
            },
            mean: Estimate {
                point: 10.3,
                lower: 10.1,
                upper: 10.5,
            },
            ..measurement(krate, scenario, implementation, 0.0)
        }
    }

    #[test]
    fn parses_criterion_fixture() {
        let parsed = parse_measurement(BENCHMARK_WEFT, ESTIMATES).unwrap();
        assert_eq!(parsed, fixture_measurement("mutex", "uncontended", "weft"));
        assert_eq!(parsed.confidence_level, 0.95);
    }

    #[test]
    fn parameter_becomes_part_of_the_scenario() {
        let benchmark = r#"{"group_id":"mutex/contended_sweep","function_id":"weft","value_str":"4","throughput":null,"full_id":"mutex/contended_sweep/weft/4","directory_name":"mutex_contended_sweep/weft/4","title":"mutex/contended_sweep/weft/4"}"#;
        let parsed = parse_measurement(benchmark, ESTIMATES).unwrap();
        assert_eq!(
            parsed,
            fixture_measurement("mutex", "contended_sweep/4", "weft")
        );
    }

    #[test]
    fn convention_breaks_are_distinguished_from_format_errors() {
        let no_slash = BENCHMARK_WEFT.replace("\"mutex/uncontended\"", "\"uncontended\"");
        assert!(matches!(
            parse_measurement(&no_slash, ESTIMATES),
            Err(ParseError::Convention(_))
        ));

        let no_function = BENCHMARK_WEFT.replace("\"weft\"", "null");
        assert!(matches!(
            parse_measurement(&no_function, ESTIMATES),
            Err(ParseError::Convention(_))
        ));

        let format_error =
            |benchmark: &str, estimates: &str| match parse_measurement(benchmark, estimates) {
                Err(ParseError::Format(message)) => message,
                other => panic!("not a format error: {other:?}"),
            };
        let no_median = ESTIMATES.replace("\"median\"", "\"medium\"");
        assert!(
            format_error(BENCHMARK_WEFT, &no_median)
                .starts_with("estimates.json: missing field `median`")
        );
        let no_bound = ESTIMATES.replacen("\"lower_bound\":10.05", "\"lower\":10.05", 1);
        assert!(
            format_error(BENCHMARK_WEFT, &no_bound)
                .starts_with("estimates.json: missing field `lower_bound`")
        );

        let truncated = &BENCHMARK_WEFT[..40];
        assert!(matches!(
            parse_measurement(truncated, ESTIMATES),
            Err(ParseError::Format(_))
        ));
    }

    #[test]
    fn reads_results_in_run_order_and_skips_convention_breaks() {
        let dir =
            std::env::temp_dir().join(format!("weft-xtask-bench-results-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        // Criterion's layout: `<group dir>/<function dir>/new/`, plus `base/`
        // copies and a `report/` directory, which must both be ignored.
        let write = |relative: &str, benchmark: &str, seconds: u64| {
            let new_dir = dir.join(relative).join("new");
            fs::create_dir_all(&new_dir).unwrap();
            let benchmark_path = new_dir.join("benchmark.json");
            fs::write(&benchmark_path, benchmark).unwrap();
            fs::write(new_dir.join("estimates.json"), ESTIMATES).unwrap();
            let file = fs::File::options()
                .write(true)
                .open(&benchmark_path)
                .unwrap();
            file.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(seconds))
                .unwrap();
        };
        // `std` sorts before `weft` by path, but ran after it.
        write("mutex_uncontended/weft", BENCHMARK_WEFT, 100);
        write(
            "mutex_uncontended/std",
            &BENCHMARK_WEFT.replace("\"weft\"", "\"std\""),
            200,
        );
        write(
            "adhoc",
            &BENCHMARK_WEFT.replace("\"mutex/uncontended\"", "\"adhoc\""),
            50,
        );
        fs::create_dir_all(dir.join("mutex_uncontended/weft/base")).unwrap();
        fs::write(
            dir.join("mutex_uncontended/weft/base/benchmark.json"),
            "not json",
        )
        .unwrap();
        fs::create_dir_all(dir.join("report")).unwrap();

        let results = read_results(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            results.unwrap(),
            [
                fixture_measurement("mutex", "uncontended", "weft"),
                fixture_measurement("mutex", "uncontended", "std"),
            ]
        );
        assert_eq!(read_results(&dir).unwrap(), []);
    }

    #[test]
    fn recognises_finished_benchmarks_in_criterion_output() {
        // Criterion 0.5's output for a short id, a long id (on its own
        // line), and the lines around them that are not results.
        let output = "\
mutex/uncontended/weft  time:   [4.3605 ns 4.3619 ns 4.3633 ns]
Found 3 outliers among 100 measurements (3.00%)
  2 (2.00%) high mild
mutex/contended_sweep/parking_lot/8
                        time:   [8.0712 µs 8.1190 µs 8.2399 µs]
queue/seq_boundedN/std  time:   [12.345 ms 12.5 ms 12.7 ms]
                        change: [-1.2% +0.5% +2.1%] (p = 0.61 > 0.05)
                        No change in performance detected.
Warning: Unable to complete 10 samples in 1.5s.
";
        let lines: Vec<&str> = output.lines().collect();
        let mut finished = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            let previous = if index == 0 { "" } else { lines[index - 1] };
            finished.extend(finished_benchmark(line, previous));
        }
        let expected = [
            ("mutex/uncontended/weft", "4.3619 ns"),
            ("mutex/contended_sweep/parking_lot/8", "8.1190 µs"),
            ("queue/seq_boundedN/std", "12.5 ms"),
        ];
        let expected: Vec<Finished> = expected
            .iter()
            .map(|(id, time)| Finished {
                id: id.to_string(),
                time: time.to_string(),
            })
            .collect();
        assert_eq!(finished, expected);

        // A `time:` line after a line that is not an id is not a result.
        assert_eq!(
            finished_benchmark(
                "                        time:   [1 ns 2 ns 3 ns]",
                "Found 3 outliers"
            ),
            None
        );
        // Criterion's throughput change block has a `time:` line too.
        assert_eq!(
            finished_benchmark(
                "                        time:   [-1.2% +0.5% +2.1%] (p = 0.61 > 0.05)",
                "                 change:"
            ),
            None
        );
    }

    #[test]
    fn lists_benchmark_ids() {
        let list = "\
mutex/uncontended/weft: benchmark
mutex/uncontended/std: benchmark
mutex/contended_sweep/weft/1: benchmark

Gnuplot not found, using plotters backend
";
        assert_eq!(
            listed_ids(list),
            [
                "mutex/uncontended/weft",
                "mutex/uncontended/std",
                "mutex/contended_sweep/weft/1"
            ]
        );
        assert!(listed_ids("").is_empty());
    }
}
