//! The figures the report derives from the measurements: the ratio of a
//! peer's time to Weft's, and the median over several passes.

use std::collections::HashSet;

use super::model::{Estimate, Measurement};

/// Returns how many times faster Weft is than a peer, the peer's time over
/// Weft's, or `None` when either time is not a positive number.
pub(crate) fn ratio(peer_ns: f64, weft_ns: f64) -> Option<f64> {
    let valid = |ns: f64| ns.is_finite() && ns > 0.0;
    (valid(peer_ns) && valid(weft_ns)).then(|| peer_ns / weft_ns)
}

/// Whether a ratio shows Weft behind the peer, judged on the value as
/// displayed with two decimals: 0.996 shows as `1.00×` and is not behind,
/// so a mark never contradicts the number next to it.
pub(crate) fn is_behind(ratio: f64) -> bool {
    format!("{ratio:.2}")
        .parse::<f64>()
        .is_ok_and(|shown| shown < 1.0)
}

/// Folds several passes over the same benchmarks into one list, in the
/// first pass's order: each benchmark's median becomes the median of the
/// passes' medians (the mean likewise), and its interval becomes the range
/// those medians spanned, so that `report.json` shows how far the passes
/// disagreed. A benchmark missing from some pass is combined over the passes
/// that have it. One pass comes back as it is.
pub(crate) fn combine_passes(mut passes: Vec<Vec<Measurement>>) -> Vec<Measurement> {
    if passes.len() <= 1 {
        return passes.pop().unwrap_or_default();
    }
    let key = |m: &Measurement| {
        (
            m.krate.clone(),
            m.scenario.clone(),
            m.implementation.clone(),
        )
    };
    let mut combined = Vec::new();
    let mut seen = HashSet::new();
    for measurement in passes.iter().flatten() {
        if !seen.insert(key(measurement)) {
            continue;
        }
        let same: Vec<&Measurement> = passes
            .iter()
            .flatten()
            .filter(|other| key(other) == key(measurement))
            .collect();
        let spread = |points: Vec<f64>| Estimate {
            point: median_of(&points),
            lower: points.iter().copied().fold(f64::INFINITY, f64::min),
            upper: points.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        combined.push(Measurement {
            median: spread(same.iter().map(|m| m.median.point).collect()),
            mean: spread(same.iter().map(|m| m.mean.point).collect()),
            ..measurement.clone()
        });
    }
    combined
}

/// The median of a non-empty list (the mean of the middle two when even).
fn median_of(points: &[f64]) -> f64 {
    let mut sorted = points.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::measurement;

    #[test]
    fn ratios_need_two_positive_times() {
        assert_eq!(ratio(5.0, 10.0), Some(0.5));
        assert_eq!(ratio(5.0, f64::NAN), None);
        assert_eq!(ratio(5.0, 0.0), None);
        assert!(is_behind(0.994));
        assert!(!is_behind(0.996));
    }

    #[test]
    fn passes_combine_into_medians_with_their_range() {
        let pass = |weft: f64, std: f64| {
            vec![
                measurement("mutex", "uncontended", "weft", weft),
                measurement("mutex", "uncontended", "std", std),
            ]
        };
        let combined = combine_passes(vec![pass(5.0, 9.0), pass(4.0, 30.0), pass(6.0, 10.0)]);
        assert_eq!(combined.len(), 2);
        assert_eq!(combined[0].implementation, "weft");
        assert_eq!(
            (
                combined[0].median.point,
                combined[0].median.lower,
                combined[0].median.upper
            ),
            (5.0, 4.0, 6.0)
        );
        // One outlier pass does not move the median far.
        assert_eq!(combined[1].median.point, 10.0);
        assert_eq!(combined[1].median.upper, 30.0);
        // An even number of passes takes the middle two.
        let even = combine_passes(vec![pass(4.0, 1.0), pass(6.0, 1.0)]);
        assert_eq!(even[0].median.point, 5.0);
        // A single pass is left alone.
        assert_eq!(combine_passes(vec![pass(5.0, 9.0)]), pass(5.0, 9.0));
        assert!(combine_passes(Vec::new()).is_empty());
    }
}
