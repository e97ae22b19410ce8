//! `cargo xtask bench --baseline FILE`: how this run's figures moved
//! against an earlier run's `report.json`.
//!
//! Two kinds of figure are compared. Weft's own median time per scenario
//! says whether Weft got faster or slower; it counts as changed only when
//! it moved by more than `NOISE` and the two runs' confidence intervals of
//! the median do not overlap, because a two-core machine easily moves a
//! figure by a few percent from one run to the next. Each peer / Weft ratio
//! says whether Weft gained or lost ground on that peer, which is what a
//! user deciding between them reads; its change is reported as is, with a
//! mark where Weft moved from ahead to behind or back.

use super::markdown::{Align, MISSING, format_ratio_value, format_time, markdown_table};
use super::model::{Environment, Estimate, Measurement, Report, WEFT};
use super::stats::{is_behind, ratio};

/// The smallest relative change in a Weft time that can count as faster or
/// slower: criterion's own default noise threshold is 1%, and runs on a
/// shared two-core machine wander further than that.
const NOISE: f64 = 0.02;

/// The two values of one figure, in the baseline and now; `None` where the
/// run did not measure it.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    /// Weft's median time, with its confidence interval.
    Time {
        /// In the baseline.
        before: Option<Estimate>,
        /// In this run.
        now: Option<Estimate>,
    },
    /// A peer's time divided by Weft's.
    Ratio {
        /// In the baseline.
        before: Option<f64>,
        /// In this run.
        now: Option<f64>,
    },
}

impl Values {
    /// Whether this run measured the figure.
    fn measured_now(&self) -> bool {
        match self {
            Values::Time { now, .. } => now.is_some(),
            Values::Ratio { now, .. } => now.is_some(),
        }
    }
}

/// One line of the comparison: one figure of one scenario.
#[derive(Debug, Clone, PartialEq)]
struct Change {
    /// The scenario, as `<crate>/<scenario>`.
    scenario: String,
    /// What the figure is: `weft` for Weft's time, `<peer> / weft` for a ratio.
    figure: String,
    /// The figure in both runs.
    values: Values,
}

/// What happened to one of Weft's times between the two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeVerdict {
    /// Faster by more than the noise, with disjoint confidence intervals.
    Faster,
    /// Slower by more than the noise, with disjoint confidence intervals.
    Slower,
    /// Too small a change, or overlapping intervals, to tell.
    Noise,
}

/// Judges a change of Weft's median time (see the module's documentation).
fn time_verdict(before: &Estimate, now: &Estimate) -> TimeVerdict {
    let change = now.point / before.point - 1.0;
    if change < -NOISE && now.upper < before.lower {
        TimeVerdict::Faster
    } else if change > NOISE && now.lower > before.upper {
        TimeVerdict::Slower
    } else {
        TimeVerdict::Noise
    }
}

/// Lists the figures of both reports, pairing them by crate, scenario and
/// implementation.
///
/// Scenarios come in this run's order, followed by those only the baseline
/// has; within a scenario, Weft's time comes first, then each peer's ratio.
fn compare(before: &Report, now: &Report) -> Vec<Change> {
    let all = || now.measurements.iter().chain(&before.measurements);
    let mut scenarios: Vec<(&str, &str)> = Vec::new();
    for m in all() {
        if !scenarios.contains(&(m.krate.as_str(), m.scenario.as_str())) {
            scenarios.push((&m.krate, &m.scenario));
        }
    }

    let find = |report: &'_ Report, krate: &str, scenario: &str, implementation: &str| {
        report
            .measurements
            .iter()
            .find(|m| {
                m.krate == krate && m.scenario == scenario && m.implementation == implementation
            })
            .map(|m: &Measurement| m.median)
    };

    let mut changes = Vec::new();
    for (krate, scenario) in scenarios {
        let weft_before = find(before, krate, scenario, WEFT);
        let weft_now = find(now, krate, scenario, WEFT);
        let name = format!("{krate}/{scenario}");
        if weft_before.is_some() || weft_now.is_some() {
            changes.push(Change {
                scenario: name.clone(),
                figure: WEFT.to_string(),
                values: Values::Time {
                    before: weft_before,
                    now: weft_now,
                },
            });
        }

        let mut peers: Vec<&str> = Vec::new();
        for m in all() {
            if m.krate == krate
                && m.scenario == scenario
                && m.implementation != WEFT
                && !peers.contains(&m.implementation.as_str())
            {
                peers.push(&m.implementation);
            }
        }
        let ratio_in = |report: &Report, weft: Option<Estimate>, peer: &str| {
            let peer = find(report, krate, scenario, peer)?;
            ratio(peer.point, weft?.point)
        };
        for peer in peers {
            let (before, now) = (
                ratio_in(before, weft_before, peer),
                ratio_in(now, weft_now, peer),
            );
            // Without Weft in either run there is no ratio to compare.
            if before.is_some() || now.is_some() {
                changes.push(Change {
                    scenario: name.clone(),
                    figure: format!("{peer} / {WEFT}"),
                    values: Values::Ratio { before, now },
                });
            }
        }
    }
    changes
}

/// Formats a relative change from `before` to `now` in percent, with its
/// sign: `+4.0%`, `-12.5%`.
fn format_change(before: f64, now: f64) -> String {
    format!("{:+.1}%", (now / before - 1.0) * 100.0)
}

/// The text of the `Change` column for one figure.
fn describe(values: &Values) -> String {
    match values {
        Values::Time {
            before: Some(before),
            now: Some(now),
        } => {
            let change = format_change(before.point, now.point);
            match time_verdict(before, now) {
                TimeVerdict::Faster => format!("{change} faster"),
                TimeVerdict::Slower => format!("{change} slower ◀"),
                TimeVerdict::Noise => format!("{change} (noise)"),
            }
        }
        Values::Ratio {
            before: Some(before),
            now: Some(now),
        } => {
            let change = format_change(*before, *now);
            match (is_behind(*before), is_behind(*now)) {
                (false, true) => format!("{change}, now behind ◀"),
                (true, false) => format!("{change}, now ahead"),
                _ => change,
            }
        }
        Values::Time { before: None, .. } | Values::Ratio { before: None, .. } => "new".to_string(),
        Values::Time { now: None, .. } | Values::Ratio { now: None, .. } => {
            "not measured now".to_string()
        }
    }
}

/// Names the facts of the baseline's environment that differ from this
/// run's and that change figures: machine, cores, OS, compiler, mode.
fn differences(before: &Environment, now: &Environment) -> Vec<String> {
    let mut differences = Vec::new();
    let mut check = |what: &str, before: &str, now: &str| {
        if before != now {
            differences.push(format!("{what} `{before}` (now `{now}`)"));
        }
    };
    check("machine", &before.machine, &now.machine);
    check("logical cores", &before.logical_cores, &now.logical_cores);
    check("OS", &before.os, &now.os);
    check("compiler", &before.rustc, &now.rustc);
    check("mode", before.mode.name(), now.mode.name());
    differences
}

/// Renders the comparison of this run (`now`) with the baseline read from
/// `baseline_path`: a short verdict on Weft's times, then one table row
/// per figure.
pub(crate) fn render_comparison(baseline_path: &str, before: &Report, now: &Report) -> String {
    let changes = compare(before, now);
    let (mut faster, mut slower, mut noise) = (0, 0, 0);
    for change in &changes {
        if let Values::Time {
            before: Some(before),
            now: Some(now),
        } = &change.values
        {
            match time_verdict(before, now) {
                TimeVerdict::Faster => faster += 1,
                TimeVerdict::Slower => slower += 1,
                TimeVerdict::Noise => noise += 1,
            }
        }
    }

    let b = &before.environment;
    let mut out = format!(
        "## Change against the baseline\n\
         \n\
         Baseline: `{baseline_path}`, a {} run of {} on {}.\n\n",
        b.mode.name(),
        b.date,
        b.machine
    );
    let differences = differences(b, &now.environment);
    if !differences.is_empty() {
        out.push_str(&format!(
            "> **Not like for like:** the baseline differs in {}, so part of every change \
             comes from that.\n\n",
            differences.join(", ")
        ));
    }
    let level = now
        .measurements
        .first()
        .map_or(95.0, |m| m.confidence_level * 100.0);
    out.push_str(&format!(
        "Weft's times: **{faster} faster, {slower} slower**, {noise} within noise. A time \
         counts as changed when it moved by more than {:.0}% and the two runs' {level:.0}% \
         confidence intervals of the median do not overlap. A ratio's change is relative: \
         positive means Weft gained on the peer.\n\n",
        NOISE * 100.0
    ));

    // Figures only the baseline has are usually scenarios filtered out of
    // this run; they are named, not tabulated.
    let (shown, left_out): (Vec<&Change>, Vec<&Change>) = changes
        .iter()
        .partition(|change| change.values.measured_now());
    if !left_out.is_empty() {
        let mut scenarios: Vec<&str> = Vec::new();
        for change in &left_out {
            if !scenarios.contains(&change.scenario.as_str()) {
                scenarios.push(&change.scenario);
            }
        }
        const NAMED: usize = 6;
        let mut named = scenarios[..scenarios.len().min(NAMED)].join(", ");
        if scenarios.len() > NAMED {
            named.push_str(&format!(" and {} more", scenarios.len() - NAMED));
        }
        out.push_str(&format!(
            "Left out: {} figures of the baseline that this run did not measure (filtered \
             out, or since removed), in {named}.\n\n",
            left_out.len()
        ));
    }

    let header: Vec<String> = ["Scenario", "Figure", "Baseline", "Now", "Change"]
        .iter()
        .map(|cell| cell.to_string())
        .collect();
    let align = [
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|change| {
            let (before, now) = match &change.values {
                Values::Time { before, now } => {
                    let time = |e: &Option<Estimate>| {
                        e.map_or(MISSING.to_string(), |e| format_time(e.point))
                    };
                    (time(before), time(now))
                }
                Values::Ratio { before, now } => {
                    (format_ratio_value(*before), format_ratio_value(*now))
                }
            };
            vec![
                change.scenario.clone(),
                change.figure.clone(),
                before,
                now,
                describe(&change.values),
            ]
        })
        .collect();
    out.push_str(&markdown_table(&header, &align, &rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::{environment, measurement};
    use crate::bench::report::model::Mode;

    /// A measurement whose median interval is `point` ± `spread`.
    fn timed(
        krate: &str,
        scenario: &str,
        implementation: &str,
        point: f64,
        spread: f64,
    ) -> Measurement {
        Measurement {
            median: Estimate {
                point,
                lower: point - spread,
                upper: point + spread,
            },
            ..measurement(krate, scenario, implementation, point)
        }
    }

    #[test]
    fn judges_weft_times_by_size_and_interval_overlap() {
        let estimate = |point: f64, spread: f64| Estimate {
            point,
            lower: point - spread,
            upper: point + spread,
        };
        // 10% faster with tight intervals.
        assert_eq!(
            time_verdict(&estimate(100.0, 1.0), &estimate(90.0, 1.0)),
            TimeVerdict::Faster
        );
        assert_eq!(
            time_verdict(&estimate(100.0, 1.0), &estimate(110.0, 1.0)),
            TimeVerdict::Slower
        );
        // 10% slower, but the intervals overlap.
        assert_eq!(
            time_verdict(&estimate(100.0, 6.0), &estimate(110.0, 6.0)),
            TimeVerdict::Noise
        );
        // Disjoint intervals, but only 1% apart.
        assert_eq!(
            time_verdict(&estimate(100.0, 0.1), &estimate(101.0, 0.1)),
            TimeVerdict::Noise
        );
    }

    #[test]
    fn pairs_figures_by_scenario_and_implementation() {
        let before = Report {
            environment: environment(Mode::Full),
            measurements: vec![
                timed("mutex", "uncontended", "weft", 10.0, 0.1),
                timed("mutex", "uncontended", "std", 12.0, 0.1),
                timed("mutex", "contended_2_threads", "weft", 50.0, 1.0),
                timed("mutex", "contended_2_threads", "std", 60.0, 1.0),
            ],
        };
        let now = Report {
            environment: environment(Mode::Full),
            measurements: vec![
                timed("mutex", "uncontended", "weft", 8.0, 0.1),
                timed("mutex", "uncontended", "std", 12.0, 0.1),
                timed("mutex", "uncontended", "parking_lot", 9.0, 0.1),
                timed("mutex", "contended_sweep/2", "weft", 40.0, 1.0),
            ],
        };
        let changes = compare(&before, &now);
        let summary: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.scenario.as_str(), c.figure.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("mutex/uncontended", "weft"),
                ("mutex/uncontended", "std / weft"),
                ("mutex/uncontended", "parking_lot / weft"),
                ("mutex/contended_sweep/2", "weft"),
                ("mutex/contended_2_threads", "weft"),
                ("mutex/contended_2_threads", "std / weft"),
            ]
        );
        assert_eq!(
            changes[1].values,
            Values::Ratio {
                before: Some(1.2),
                now: Some(1.5)
            }
        );
        assert_eq!(
            changes[2].values,
            Values::Ratio {
                before: None,
                now: Some(9.0 / 8.0)
            }
        );
        assert!(matches!(
            changes[3].values,
            Values::Time {
                before: None,
                now: Some(_)
            }
        ));
        assert!(matches!(
            changes[5].values,
            Values::Ratio {
                before: Some(_),
                now: None
            }
        ));
    }

    #[test]
    fn renders_the_comparison() {
        let before = Report {
            environment: environment(Mode::Quick),
            measurements: vec![
                timed("mutex", "uncontended", "weft", 10.0, 0.1),
                timed("mutex", "uncontended", "std", 12.0, 0.1),
                timed("mutex", "long_cs", "weft", 100.0, 1.0),
                timed("mutex", "long_cs", "std", 95.0, 1.0),
                timed("queue", "spsc", "weft", 50.0, 5.0),
                timed("queue", "spsc", "flume", 60.0, 5.0),
                timed("queue", "spsc", "std", 60.0, 5.0),
                timed("queue", "gone", "weft", 1.0, 0.1),
                // A scenario without Weft has no figure to compare.
                timed("queue", "no_weft", "std", 1.0, 0.1),
            ],
        };
        let now = Report {
            environment: environment(Mode::Full),
            measurements: vec![
                timed("mutex", "uncontended", "weft", 8.0, 0.1),
                timed("mutex", "uncontended", "std", 12.0, 0.1),
                timed("mutex", "long_cs", "weft", 90.0, 1.0),
                timed("mutex", "long_cs", "std", 95.0, 1.0),
                timed("queue", "spsc", "weft", 52.0, 5.0),
                timed("queue", "spsc", "flume", 48.0, 5.0),
                timed("queue", "new", "weft", 1.0, 0.1),
                timed("queue", "no_weft", "std", 1.0, 0.1),
            ],
        };
        let text = render_comparison("old/report.json", &before, &now);
        let expected = "\
## Change against the baseline

Baseline: `old/report.json`, a quick run of 2026-04-20 on Test CPU (x86_64).

> **Not like for like:** the baseline differs in mode `quick` (now `full`), so part of every change comes from that.

Weft's times: **2 faster, 0 slower**, 1 within noise. A time counts as changed when it moved by more than 2% and the two runs' 95% confidence intervals of the median do not overlap. A ratio's change is relative: positive means Weft gained on the peer.

Left out: 2 figures of the baseline that this run did not measure (filtered out, or since removed), in queue/spsc, queue/gone.

| Scenario          | Figure       | Baseline |     Now | Change               |
| :---------------- | :----------- | -------: | ------: | :------------------- |
| mutex/uncontended | weft         |  10.0 ns | 8.00 ns | -20.0% faster        |
| mutex/uncontended | std / weft   |    1.20× |   1.50× | +25.0%               |
| mutex/long_cs     | weft         |   100 ns | 90.0 ns | -10.0% faster        |
| mutex/long_cs     | std / weft   |    0.95× |   1.06× | +11.1%, now ahead    |
| queue/spsc        | weft         |  50.0 ns | 52.0 ns | +4.0% (noise)        |
| queue/spsc        | flume / weft |    1.20× |   0.92× | -23.1%, now behind ◀ |
| queue/new         | weft         |        — | 1.00 ns | new                  |
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_slower_weft_is_marked() {
        let before = Report {
            environment: environment(Mode::Full),
            measurements: vec![timed("mutex", "uncontended", "weft", 10.0, 0.1)],
        };
        let now = Report {
            environment: environment(Mode::Full),
            measurements: vec![timed("mutex", "uncontended", "weft", 12.0, 0.1)],
        };
        let text = render_comparison("base.json", &before, &now);
        assert!(text.contains("| +20.0% slower ◀ |"), "{text}");
        assert!(text.contains("**0 faster, 1 slower**"));
        assert!(!text.contains("Not like for like"));
    }
}
