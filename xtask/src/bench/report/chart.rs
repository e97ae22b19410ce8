//! What `report.svg` shows, worked out from the report: the ratio of each
//! peer to Weft per scenario, the thread sweeps, and a logarithmic axis
//! that holds them. `svg.rs` draws it.

use super::model::{Report, WEFT, sweep_point};
use super::stats::ratio;

/// One row of the upper panel: a scenario and each peer's ratio in it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RatioRow {
    /// The scenario, as `<crate>/<scenario>`.
    pub(crate) label: String,
    /// Each measured peer and its time divided by Weft's.
    pub(crate) ratios: Vec<(String, f64)>,
}

/// One thread-count sweep: a small chart of the lower panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sweep {
    /// The sweep, as `<crate>/<scenario>_sweep`.
    pub(crate) title: String,
    /// One line per peer: its ratio at each thread count, by thread count.
    pub(crate) lines: Vec<(String, Vec<(u32, f64)>)>,
}

/// Returns Weft's median time in the scenario, if Weft was measured there.
fn weft_time(report: &Report, krate: &str, scenario: &str) -> Option<f64> {
    report
        .measurements
        .iter()
        .find(|m| m.krate == krate && m.scenario == scenario && m.implementation == WEFT)
        .map(|m| m.median.point)
}

/// Every scenario that is not a sweep point and has at least one ratio, in
/// run order.
pub(crate) fn ratio_rows(report: &Report) -> Vec<RatioRow> {
    let mut rows: Vec<RatioRow> = Vec::new();
    for m in &report.measurements {
        if m.implementation == WEFT || sweep_point(&m.scenario).is_some() {
            continue;
        }
        let Some(value) =
            weft_time(report, &m.krate, &m.scenario).and_then(|weft| ratio(m.median.point, weft))
        else {
            continue;
        };
        let label = format!("{}/{}", m.krate, m.scenario);
        match rows.iter_mut().find(|row| row.label == label) {
            Some(row) => row.ratios.push((m.implementation.clone(), value)),
            None => rows.push(RatioRow {
                label,
                ratios: vec![(m.implementation.clone(), value)],
            }),
        }
    }
    rows
}

/// Every sweep with at least one ratio, in run order; each line's points
/// sorted by thread count.
pub(crate) fn sweeps(report: &Report) -> Vec<Sweep> {
    let mut sweeps: Vec<Sweep> = Vec::new();
    for m in &report.measurements {
        if m.implementation == WEFT {
            continue;
        }
        let Some((name, threads)) = sweep_point(&m.scenario) else {
            continue;
        };
        let Some(value) =
            weft_time(report, &m.krate, &m.scenario).and_then(|weft| ratio(m.median.point, weft))
        else {
            continue;
        };
        let title = format!("{}/{name}", m.krate);
        let sweep_index = match sweeps.iter().position(|s| s.title == title) {
            Some(index) => index,
            None => {
                sweeps.push(Sweep {
                    title,
                    lines: Vec::new(),
                });
                sweeps.len() - 1
            }
        };
        let lines = &mut sweeps[sweep_index].lines;
        match lines.iter_mut().find(|(peer, _)| *peer == m.implementation) {
            Some((_, points)) => points.push((threads, value)),
            None => lines.push((m.implementation.clone(), vec![(threads, value)])),
        }
    }
    for sweep in &mut sweeps {
        for (_, points) in &mut sweep.lines {
            points.sort_by_key(|&(threads, _)| threads);
        }
    }
    sweeps
}

/// Chooses a logarithmic ratio axis for `ratios`: a range that holds them
/// all and 1.0 with a margin, and the tick values to label, at least three
/// where possible (1, 2, 5, 10, ... over a wide range; finer steps over a
/// narrow one).
pub(crate) fn ratio_axis(ratios: impl IntoIterator<Item = f64>) -> (f64, f64, Vec<f64>) {
    let (mut min, mut max) = (1.0f64, 1.0f64);
    for ratio in ratios {
        if ratio.is_finite() && ratio > 0.0 {
            min = min.min(ratio);
            max = max.max(ratio);
        }
    }
    let (lo, hi) = (min / 1.25, max * 1.25);

    const MANTISSAS: [&[f64]; 3] = [
        &[1.0, 2.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0],
        &[
            1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
        ],
    ];
    let first_exponent = lo.log10().floor() as i32;
    let last_exponent = hi.log10().floor() as i32;
    let mut ticks = Vec::new();
    for mantissas in MANTISSAS {
        ticks.clear();
        for exponent in first_exponent..=last_exponent {
            for &mantissa in mantissas {
                // Dividing by an exact power of ten keeps 0.2 from becoming
                // 0.20000000000000004.
                let tick = if exponent < 0 {
                    mantissa / 10f64.powi(-exponent)
                } else {
                    mantissa * 10f64.powi(exponent)
                };
                if (lo..=hi).contains(&tick) {
                    ticks.push(tick);
                }
            }
        }
        if ticks.len() >= 3 {
            break;
        }
    }
    (lo, hi, ticks)
}

/// Labels a ratio tick: `0.5×`, `1×`, `20×`.
pub(crate) fn format_tick(ratio: f64) -> String {
    let rounded = (ratio * 1e6).round() / 1e6;
    format!("{rounded}×")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::chart_report;

    #[test]
    fn prepares_rows_and_sweeps() {
        let report = chart_report();
        assert_eq!(
            ratio_rows(&report),
            [
                RatioRow {
                    label: "mutex/uncontended".to_string(),
                    ratios: vec![
                        ("std".to_string(), 4.4 / 4.0),
                        ("parking_lot".to_string(), 0.75)
                    ],
                },
                RatioRow {
                    label: "queue/spsc_unbounded".to_string(),
                    ratios: vec![("crossbeam".to_string(), 1.5)],
                },
            ]
        );
        assert_eq!(
            sweeps(&report),
            [Sweep {
                title: "mutex/contended_sweep".to_string(),
                lines: vec![
                    (
                        "std".to_string(),
                        vec![(1, 1.1), (2, 3.0), (4, 3.5), (8, 3.6)]
                    ),
                    (
                        "parking_lot".to_string(),
                        vec![(1, 1.2), (2, 1.1), (4, 0.9), (8, 1.2)]
                    ),
                ],
            }]
        );
    }

    #[test]
    fn ratio_axis_holds_every_ratio_and_one() {
        let (lo, hi, ticks) = ratio_axis([0.3, 40.0]);
        assert!(lo < 0.3 && hi > 40.0);
        assert_eq!(ticks, [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);

        // Everything above 1: the axis still reaches below 1.0.
        let (lo, _, ticks) = ratio_axis([3.0, 8.0]);
        assert!(lo < 1.0);
        assert_eq!(ticks, [1.0, 2.0, 5.0, 10.0]);

        // A narrow range gets finer ticks.
        let (_, _, ticks) = ratio_axis([0.9, 1.1]);
        assert_eq!(ticks, [0.8, 0.9, 1.0, 1.1, 1.2, 1.3]);
        let (_, _, ticks) = ratio_axis([]);
        assert_eq!(ticks, [0.8, 0.9, 1.0, 1.1, 1.2]);

        assert_eq!(format_tick(0.2), "0.2×");
        assert_eq!(format_tick(1.1 / 10.0), "0.11×");
        assert_eq!(format_tick(20.0), "20×");
    }
}
