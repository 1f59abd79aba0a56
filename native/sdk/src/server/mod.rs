//! The gRPC server of a kernel crate (feature `server`): [`main`] over its [`KernelTable`],
//! speaking `proto/hybridbench.proto`.
//!
//! ```text
//! hybridbench-server --listen unix:/tmp/hb/server.sock
//! hybridbench-server --listen 127.0.0.1:0          # prints the port it got
//! hybridbench-server --listen 0.0.0.0:50051 --allow-remote
//! hybridbench-server --list-workloads              # one name per line, then exits
//! ```
//!
//! * Prints `listening on ADDR` on stdout (then flushes) once it accepts connections; ADDR is
//!   `unix:PATH` or `IP:PORT` with the port actually bound (port 0 picks a free one).
//! * Serves `hybridbench.v1.Kernels` (the generic `Run`, `Describe`, `Resources`) and the
//!   standard `grpc.health.v1.Health` service (tonic-health).
//! * Messages up to 80 MiB both ways (bodies go up to 64 MiB plus protobuf framing).
//! * Kernels run on the blocking thread pool (`spawn_blocking`), at most `--workers` at once
//!   (default: the number of CPUs), so concurrent calls run in parallel and the async reactor
//!   keeps moving bytes; kernels marked `inline` (echo: a copy) run on the reactor thread.
//! * Bad input: status INVALID_ARGUMENT with the kernel's message; unknown workload:
//!   UNIMPLEMENTED naming the known ones; a kernel panic: INTERNAL.
//! * SIGTERM / SIGINT: graceful shutdown (health goes NOT_SERVING, in-flight calls finish,
//!   hard exit after 5 s). Exits when its parent dies: `PR_SET_PDEATHSIG(SIGTERM)` on Linux plus
//!   a `getppid()` watchdog (every 200 ms) as a fallback, watching `--parent-pid` (default: the
//!   parent at start); `--no-death-signal` keeps only the watchdog (the death signal follows the
//!   parent *thread*), `--no-parent-watch` disables both for a server started by hand.
//! * Binds loopback addresses only (127.0.0.0/8, ::1, or a Unix socket) unless
//!   `--allow-remote` is given.

use std::process::ExitCode;
use std::sync::OnceLock;

use crate::kernel::KernelTable;

mod args;
mod codec;
mod observe;
mod parent;
mod resources;
mod serve;
mod service;

/// The code generated from `proto/hybridbench.proto` (server side only): the messages, and the
/// server, whose `Run` takes and answers them in wrappers (see build.rs).
pub mod pb {
    tonic::include_proto!("hybridbench.v1");
    pub use super::codec::{RunAnswer, RunCall};
    include!(concat!(env!("OUT_DIR"), "/server/hybridbench.v1.rs"));
}

/// The binary's name for messages (a plug-in's server is not called `hybridbench-server`).
fn program() -> &'static str {
    static PROGRAM: OnceLock<String> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        std::env::args()
            .next()
            .as_deref()
            .and_then(|arg0| std::path::Path::new(arg0).file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "hybridbench-server".into())
    })
}

/// Keep large buffers in the heap instead of mmapping and unmapping them on every call: a
/// multi-megabyte body would otherwise cost fresh page faults for every buffer of every call.
/// Blocks up to 32 MiB (glibc's maximum for this setting) come from the heap, and freed memory
/// is kept up to 256 MiB (RSS stays near its peak, which is what is reported anyway).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    }
}

/// The `main` of a kernel crate's server binary: parse the command line, then serve `table`
/// until told to stop (exit 0), or fail with a message (exit 1; 2 for a bad command line).
pub fn main(table: &'static KernelTable) -> ExitCode {
    tune_allocator();
    match args::parse_args(std::env::args().skip(1)) {
        Ok(args::Command::Help) => {
            println!("{}", args::usage(program()));
            ExitCode::SUCCESS
        }
        Ok(args::Command::ListWorkloads) => {
            for name in table.names() {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        Ok(args::Command::Serve(options)) => run(table, options),
        Err(message) => {
            eprintln!(
                "{}: error: {message}\n{}",
                program(),
                args::usage(program())
            );
            ExitCode::from(2)
        }
    }
}

fn run(table: &'static KernelTable, options: args::Options) -> ExitCode {
    observe::init_logging(options.log_format, options.log_calls);
    if let Some(path) = &options.trace_file {
        if let Err(e) = observe::init_tracing(path) {
            observe::error(&format!("error: {e}"));
            return ExitCode::FAILURE;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // Two reactor threads move bytes; kernels run on the blocking pool.
        .worker_threads(2)
        .max_blocking_threads(options.workers)
        .thread_name("hb-server")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            observe::error(&format!("error: cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(serve::serve(table, options));
    observe::shutdown_tracing();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            observe::error(&format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}
