//! Test data shared by the report's tests.

use super::model::{Environment, Estimate, Measurement, Mode, Report};

/// Builds a measurement with the given median and a tight interval.
pub(crate) fn measurement(
    krate: &str,
    scenario: &str,
    implementation: &str,
    median_ns: f64,
) -> Measurement {
    Measurement {
        krate: krate.to_string(),
        scenario: scenario.to_string(),
        implementation: implementation.to_string(),
        median: Estimate {
            point: median_ns,
            lower: median_ns * 0.99,
            upper: median_ns * 1.01,
        },
        mean: Estimate {
            point: median_ns * 1.02,
            lower: median_ns * 1.01,
            upper: median_ns * 1.03,
        },
        confidence_level: 0.95,
    }
}

/// An environment like the one `Environment::detect` returns.
pub(crate) fn environment(mode: Mode) -> Environment {
    Environment {
        machine: "Test CPU (x86_64)".to_string(),
        logical_cores: "2".to_string(),
        memory: "7.8 GiB".to_string(),
        os: "Test OS".to_string(),
        rustc: "rustc 1.95.0".to_string(),
        date: "2026-04-20".to_string(),
        mode,
        criterion_args: mode.criterion_args().join(" "),
        runs: 1,
        benches: "mutex, queue".to_string(),
    }
}

/// Converts string literals into owned strings.
pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// A run with plain scenarios, a sweep of two peers, and a scenario
/// without Weft (which has no ratio to draw).
pub(crate) fn chart_report() -> Report {
    let mut measurements = vec![
        measurement("mutex", "uncontended", "weft", 4.0),
        measurement("mutex", "uncontended", "std", 4.4),
        measurement("mutex", "uncontended", "parking_lot", 3.0),
    ];
    for (threads, weft, std, parking_lot) in [
        (1, 10.0, 11.0, 12.0),
        (2, 20.0, 60.0, 22.0),
        (4, 20.0, 70.0, 18.0),
        (8, 25.0, 90.0, 30.0),
    ] {
        let scenario = format!("contended_sweep/{threads}");
        measurements.push(measurement("mutex", &scenario, "weft", weft));
        measurements.push(measurement("mutex", &scenario, "std", std));
        measurements.push(measurement("mutex", &scenario, "parking_lot", parking_lot));
    }
    measurements.extend([
        measurement("queue", "spsc_unbounded", "weft", 50.0),
        measurement("queue", "spsc_unbounded", "crossbeam", 75.0),
        measurement("queue", "seq_unbounded", "flume", 75.0),
    ]);
    Report {
        environment: environment(Mode::Full),
        measurements,
    }
}
