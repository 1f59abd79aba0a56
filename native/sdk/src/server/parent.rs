//! A spawned server must never outlive the harness that spawned it.

use std::time::Duration;

use tokio::sync::mpsc;

use super::args::Options;

/// How often the fallback watchdog checks that the parent is still alive.
const PARENT_POLL: Duration = Duration::from_millis(200);

/// Ask the kernel to SIGTERM us when the parent dies, and poll `getppid()` as a fallback (the
/// death signal follows the parent *thread*, and is Linux-only). Either way a message on
/// `stop` starts the graceful shutdown.
pub(crate) fn watch_parent(
    options: &Options,
    stop: mpsc::UnboundedSender<&'static str>,
) -> Result<(), &'static str> {
    // SAFETY: getppid has no preconditions.
    let parent = options
        .parent_pid
        .unwrap_or_else(|| unsafe { libc::getppid() });
    #[cfg(target_os = "linux")]
    if options.death_signal {
        // SAFETY: plain prctl call with integer arguments.
        unsafe {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGTERM as libc::c_ulong,
                0,
                0,
                0,
            );
        }
    }
    // The parent may have died before the death signal was set.
    // SAFETY: as above.
    if unsafe { libc::getppid() } != parent {
        return Err("parent process exited before the server started");
    }
    if parent <= 1 {
        return Ok(()); // started by init: nothing to watch
    }
    std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(move || loop {
            // SAFETY: as above.
            if unsafe { libc::getppid() } != parent {
                let _ = stop.send("parent process exited");
                return;
            }
            std::thread::sleep(PARENT_POLL);
        })
        .map_err(|_| "cannot start the parent watchdog thread")?;
    Ok(())
}
