//! The server process as the operating system sees it, read at scrape time from
//! `/proc/self` (Linux): resident memory, CPU time, open files and their limit. On a
//! system without `/proc` the figures are absent rather than wrong.

/// What one reading found; each figure is `None` when it could not be read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessFigures {
    pub resident_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

pub fn read() -> ProcessFigures {
    ProcessFigures {
        resident_bytes: std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| resident_bytes(&status)),
        cpu_seconds: std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| cpu_seconds(&stat, clock_ticks_per_second())),
        open_fds: std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|entries| entries.count() as u64),
        max_fds: std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| max_fds(&limits)),
    }
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant of the system; it has no memory effects.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// `VmRSS:   12345 kB` in `/proc/self/status`.
fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// utime + stime (fields 14 and 15) of `/proc/self/stat`, whose second field (the
/// command, in parentheses) may itself hold spaces and parentheses.
fn cpu_seconds(stat: &str, ticks_per_second: f64) -> Option<f64> {
    let after_command = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_command.split_whitespace().collect();
    // Field 3 (state) is the first after the command: utime is field 14.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks_per_second)
}

/// The soft limit of `Max open files` in `/proc/self/limits`.
fn max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_proc_files() {
        assert_eq!(
            resident_bytes("Name:\tbytedata\nVmRSS:\t   2048 kB\n"),
            Some(2 * 1024 * 1024)
        );
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(cpu_seconds(stat, 100.0), Some(3.0));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_fds(limits), Some(1024));
    }

    #[test]
    fn this_process_can_be_read() {
        let figures = read();
        assert!(figures.resident_bytes.is_some_and(|b| b > 0));
        assert!(figures.open_fds.is_some_and(|n| n >= 3));
        assert!(
            figures
                .max_fds
                .is_some_and(|n| n >= figures.open_fds.unwrap_or(0))
        );
        assert!(figures.cpu_seconds.is_some());
    }
}
