//! Where the benchmarks ran: the facts printed above every report (CPU,
//! cores, memory, OS, compiler, date), read from Linux's `/proc` and
//! `/etc/os-release` where they exist.

use std::env;
use std::fs;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use super::report::model::{Environment, Mode};

impl Environment {
    /// Describes this machine, reading Linux's `/proc` and `/etc/os-release`
    /// where they exist and saying `unknown` where they do not.
    pub(crate) fn detect(mode: Mode, runs: usize, benches: String) -> Environment {
        let read = |path: &str| fs::read_to_string(path).unwrap_or_default();
        let cpu = cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown CPU".to_string());
        let logical_cores = std::thread::available_parallelism()
            .map_or_else(|_| "unknown".to_string(), |cores| cores.to_string());
        let memory = mem_total_kib(&read("/proc/meminfo"))
            .map_or_else(|| "unknown".to_string(), format_memory);
        let os =
            os_pretty_name(&read("/etc/os-release")).unwrap_or_else(|| env::consts::OS.to_string());
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Environment {
            machine: format!("{cpu} ({})", env::consts::ARCH),
            logical_cores,
            memory,
            os,
            rustc: rustc_version(),
            date: format_date(seconds),
            mode,
            criterion_args: mode.criterion_args().join(" "),
            runs,
            benches,
        }
    }
}

/// Returns the output of `$RUSTC -V` (or `rustc -V`), or why it is unavailable.
fn rustc_version() -> String {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    match Command::new(&rustc).arg("-V").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        Ok(output) => format!("unknown (`{rustc} -V` failed with {})", output.status),
        Err(error) => format!("unknown (cannot run `{rustc}`: {error})"),
    }
}

/// Returns the first `model name` in the contents of `/proc/cpuinfo`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// Returns `MemTotal` in KiB from the contents of `/proc/meminfo`, whose
/// line reads like `MemTotal:       16318412 kB` (the kernel's kB are KiB).
fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|line| {
        let value = line.strip_prefix("MemTotal:")?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// Formats an amount of memory in KiB as GiB with one decimal, like `15.6 GiB`.
fn format_memory(kib: u64) -> String {
    format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0))
}

/// Returns `PRETTY_NAME` from the contents of `/etc/os-release`, unquoted.
fn os_pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.trim().strip_prefix("PRETTY_NAME=")?;
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        Some(unquoted.to_string())
    })
}

/// Formats seconds since the Unix epoch as a UTC date, `YYYY-MM-DD`.
///
/// This is Howard Hinnant's `civil_from_days` algorithm, which counts in
/// 400-year eras of the proleptic Gregorian calendar with years starting on
/// 1 March, so that the leap day is the last day of a year.
fn format_date(seconds_since_epoch: u64) -> String {
    let days = (seconds_since_epoch / 86_400) as i64;
    // Shift the epoch from 1970-01-01 to 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_machine_details() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(cpu_model("processor\t: 0\n"), None);

        let meminfo = "MemTotal:       16318412 kB\nMemFree:         1234567 kB\n";
        assert_eq!(mem_total_kib(meminfo), Some(16_318_412));
        assert_eq!(format_memory(16_318_412), "15.6 GiB");
        assert_eq!(mem_total_kib("MemFree: 1 kB\n"), None);

        let os_release =
            "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n";
        assert_eq!(
            os_pretty_name(os_release).as_deref(),
            Some("Ubuntu 24.04.1 LTS")
        );
        assert_eq!(
            os_pretty_name("PRETTY_NAME=Alpine\n").as_deref(),
            Some("Alpine")
        );
        assert_eq!(os_pretty_name("NAME=x\n"), None);
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(86_399), "1970-01-01");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_date(1_709_251_199), "2024-02-29");
        assert_eq!(format_date(1_709_251_200), "2024-03-01");
        assert_eq!(format_date(1_735_689_599), "2024-12-31");
        assert_eq!(format_date(4_107_542_400), "2100-03-01");
    }
}
