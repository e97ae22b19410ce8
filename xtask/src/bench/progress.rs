//! The progress display of a run: one line per finished benchmark, with
//! how many are done and about how long is left.

use std::time::{Duration, Instant};

use super::criterion::Finished;

/// Counts finished benchmarks and prints a progress line for each.
#[derive(Debug)]
pub(crate) struct Progress {
    /// How many benchmarks the run has, from criterion's `--list`.
    total: usize,
    /// How many have finished.
    pub(crate) done: usize,
    /// When measuring started.
    pub(crate) start: Instant,
}

impl Progress {
    /// Starts counting `total` benchmarks now.
    pub(crate) fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            start: Instant::now(),
        }
    }

    /// Records that a benchmark finished, and says so.
    pub(crate) fn finished(&mut self, finished: &Finished) {
        self.done += 1;
        eprintln!(
            "{}",
            progress_line(self.done, self.total, finished, self.start.elapsed())
        );
    }
}

/// Formats one progress line: how many are done, which benchmark just
/// finished and criterion's estimate, the time so far and, from the
/// average so far, about how long the rest will take.
fn progress_line(done: usize, total: usize, finished: &Finished, elapsed: Duration) -> String {
    let width = total.to_string().len();
    let mut line = format!(
        "[{done:>width$}/{total}] {:<40} {:>11}   {} elapsed",
        finished.id,
        finished.time,
        format_duration(elapsed)
    );
    if done > 0 && done < total {
        let left = elapsed.mul_f64((total - done) as f64 / done as f64);
        line.push_str(&format!(", about {} left", format_duration(left)));
    }
    line
}

/// Formats a duration to the second: `45s`, `1m12s`, `1h05m`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64().round() as u64;
    if seconds < 60 {
        format!("{seconds}s")
    } else if seconds < 3600 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_progress_lines() {
        let finished = Finished {
            id: "mutex/contended_sweep/weft/4".to_string(),
            time: "8.12 ns".to_string(),
        };
        assert_eq!(
            progress_line(25, 109, &finished, Duration::from_secs(50)),
            "[ 25/109] mutex/contended_sweep/weft/4                 8.12 ns   50s elapsed, \
             about 2m48s left"
        );
        // The last one, and more than announced, have no estimate left.
        assert!(
            progress_line(109, 109, &finished, Duration::from_secs(240)).ends_with("4m00s elapsed")
        );
        assert!(
            progress_line(110, 109, &finished, Duration::from_secs(240)).ends_with("4m00s elapsed")
        );

        assert_eq!(format_duration(Duration::from_millis(400)), "0s");
        assert_eq!(format_duration(Duration::from_secs(59)), "59s");
        assert_eq!(format_duration(Duration::from_secs(72)), "1m12s");
        assert_eq!(format_duration(Duration::from_secs(3_900)), "1h05m");
    }
}
