//! The server's own memory and CPU (`Resources`), so that a client can report them even for a
//! server it did not spawn (`--grpc-target`) and cannot sample from outside.

/// Resident set size now and at its peak, in bytes: `VmRSS` and `VmHWM` of
/// `/proc/self/status` (0 where there is no procfs).
pub(crate) fn rss_bytes() -> (u64, u64) {
    std::fs::read_to_string("/proc/self/status")
        .map(|status| parse_status(&status))
        .unwrap_or((0, 0))
}

fn parse_status(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `getrusage(RUSAGE_SELF)`: the whole process, all its threads; None if it fails.
fn usage() -> Option<libc::rusage> {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    Some(usage)
}

/// User and system CPU seconds of the whole process (`getrusage(RUSAGE_SELF)`).
pub(crate) fn cpu_seconds() -> (f64, f64) {
    let Some(usage) = usage() else {
        return (0.0, 0.0);
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (seconds(usage.ru_utime), seconds(usage.ru_stime))
}

/// Minor and major page faults of the whole process so far (`ru_minflt`, `ru_majflt`).
pub(crate) fn page_faults() -> (u64, u64) {
    usage().map_or((0, 0), |u| {
        (
            u64::try_from(u.ru_minflt).unwrap_or(0),
            u64::try_from(u.ru_majflt).unwrap_or(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_bytes() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(parse_status(status), (1024 * 1024, 2048 * 1024));
        assert_eq!(parse_status("Name:\tx\n"), (0, 0));
    }

    #[test]
    fn this_process_has_memory_and_cpu() {
        let (rss, peak) = rss_bytes();
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        let (user, system) = cpu_seconds();
        assert!(user >= 0.0 && system >= 0.0 && user + system > 0.0);
        // a running process has faulted in at least its own stack and code
        let (minor, _major) = page_faults();
        assert!(minor > 0, "{minor}");
    }
}
