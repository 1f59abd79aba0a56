//! `hybridbench-server`: the hybridbench kernels (crate `hybridbench-kernels`) behind a tonic
//! gRPC server speaking `proto/hybridbench.proto`.
//!
//! ```text
//! hybridbench-server --listen unix:/tmp/hb/server.sock
//! hybridbench-server --listen 127.0.0.1:0          # prints the port it got
//! hybridbench-server --listen 0.0.0.0:50051 --allow-remote
//! ```
//!
//! * Prints `listening on ADDR` on stdout (then flushes) once it accepts connections; ADDR is
//!   `unix:PATH` or `IP:PORT` with the port actually bound (port 0 picks a free one).
//! * Serves `hybridbench.v1.Kernels` (one RPC per workload, plus `Describe`) and the standard
//!   `grpc.health.v1.Health` service (tonic-health).
//! * Messages up to 80 MiB both ways (bodies go up to 64 MiB plus protobuf framing).
//! * Kernels run on the blocking thread pool (`spawn_blocking`), at most `--workers` at once
//!   (default: the number of CPUs), so concurrent calls run in parallel and the async reactor
//!   keeps moving bytes; `echo` (a copy) runs inline.
//! * Bad input: status INVALID_ARGUMENT with the kernel's message; unknown workload:
//!   UNIMPLEMENTED; a kernel panic: INTERNAL.
//! * SIGTERM / SIGINT: graceful shutdown (health goes NOT_SERVING, in-flight calls finish,
//!   hard exit after 5 s). Exits when its parent dies: `PR_SET_PDEATHSIG(SIGTERM)` on Linux plus
//!   a `getppid()` watchdog (every 200 ms) as a fallback, watching `--parent-pid` (default: the
//!   parent at start); `--no-death-signal` keeps only the watchdog (the death signal follows the
//!   parent *thread*), `--no-parent-watch` disables both for a server started by hand.
//! * Binds loopback addresses only (127.0.0.0/8, ::1, or a Unix socket) unless
//!   `--allow-remote` is given.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hybridbench_kernels::{ErrorKind, KernelError};
use prost::bytes::Bytes;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

pub mod pb {
    tonic::include_proto!("hybridbench.v1");
}

use pb::kernels_server::{Kernels, KernelsServer};
use pb::{DescribeReply, DescribeRequest, Payload};

/// The FileDescriptorSet this server was generated from (see build.rs).
const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/hybridbench_descriptor.bin"));

/// Largest message accepted or sent: 64 MiB bodies plus room for the framing.
const MAX_MESSAGE_BYTES: usize = 80 * 1024 * 1024;
/// How long a graceful shutdown may take before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often the fallback watchdog checks that the parent is still alive.
const PARENT_POLL: Duration = Duration::from_millis(200);

const USAGE: &str = "usage: hybridbench-server --listen unix:PATH|HOST:PORT [--allow-remote] \
                     [--workers N] [--parent-pid PID] [--no-death-signal] [--no-parent-watch]";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Listen {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    listen: Listen,
    workers: usize,
    /// exit when the parent process goes away (death signal + watchdog)
    parent_watch: bool,
    /// set PR_SET_PDEATHSIG (it fires when the parent *thread* exits, so a client that spawns
    /// from a short-lived thread turns it off and relies on the watchdog)
    death_signal: bool,
    /// the parent to watch; default: the parent at start
    parent_pid: Option<i32>,
}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Resolve `--listen` and apply the loopback rule.
fn parse_listen(spec: &str, allow_remote: bool) -> Result<Listen, String> {
    if let Some(path) = spec.strip_prefix("unix:") {
        if path.is_empty() {
            return Err("--listen unix: needs a path, e.g. unix:/tmp/hb.sock".into());
        }
        return Ok(Listen::Unix(PathBuf::from(path)));
    }
    let addrs: Vec<SocketAddr> = match spec.parse::<SocketAddr>() {
        Ok(addr) => vec![addr],
        Err(_) => spec
            .to_socket_addrs()
            .map_err(|e| format!("--listen {spec:?}: not unix:PATH or HOST:PORT ({e})"))?
            .collect(),
    };
    let Some(first) = addrs.first().copied() else {
        return Err(format!(
            "--listen {spec:?}: the name resolves to no address"
        ));
    };
    if !allow_remote {
        if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(format!(
                "refusing to listen on {remote}, which is not a loopback address: pass \
                 --allow-remote to serve other machines (the server has no authentication)"
            ));
        }
    }
    Ok(Listen::Tcp(first))
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut listen = None;
    let mut allow_remote = false;
    let mut workers = default_workers();
    let mut parent_watch = true;
    let mut death_signal = true;
    let mut parent_pid = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--listen" => listen = Some(value("--listen")?),
            "--workers" => {
                let v = value("--workers")?;
                workers = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--workers {v:?}: expected a positive integer"))?;
            }
            "--parent-pid" => {
                let v = value("--parent-pid")?;
                parent_pid = Some(
                    v.parse::<i32>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("--parent-pid {v:?}: expected a process id"))?,
                );
            }
            "--allow-remote" => allow_remote = true,
            "--no-death-signal" => death_signal = false,
            "--no-parent-watch" => parent_watch = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = listen.ok_or_else(|| "--listen is required".to_string())?;
    Ok(Options {
        listen: parse_listen(&listen, allow_remote)?,
        workers,
        parent_watch,
        death_signal,
        parent_pid,
    })
}

fn kernel_status(err: KernelError) -> Status {
    match err.kind {
        ErrorKind::InvalidInput => Status::invalid_argument(err.message),
        ErrorKind::Unsupported => Status::unimplemented(err.message),
        ErrorKind::Internal => Status::internal(err.message),
    }
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[derive(Debug, Clone)]
struct KernelService {
    workers: usize,
}

impl KernelService {
    /// Run a CPU-bound kernel on the blocking pool (bounded by `--workers`).
    async fn offload(workload: &'static str, data: Bytes) -> Result<Response<Payload>, Status> {
        let joined =
            tokio::task::spawn_blocking(move || hybridbench_kernels::run(workload, &data)).await;
        match joined {
            Ok(Ok(out)) => Ok(Response::new(Payload {
                data: Bytes::from(out),
            })),
            Ok(Err(err)) => Err(kernel_status(err)),
            Err(join) if join.is_panic() => Err(Status::internal(format!(
                "{workload}: kernel panicked: {}",
                panic_message(join.into_panic())
            ))),
            Err(join) => Err(Status::internal(format!(
                "{workload}: kernel task failed: {join}"
            ))),
        }
    }
}

#[tonic::async_trait]
impl Kernels for KernelService {
    async fn json(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Self::offload("json", request.into_inner().data).await
    }

    async fn image(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Self::offload("image", request.into_inner().data).await
    }

    async fn timeseries(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Self::offload("timeseries", request.into_inner().data).await
    }

    async fn echo(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        // A copy is not worth a thread hop: the echo kernel runs on the reactor thread.
        let data = request.into_inner().data;
        hybridbench_kernels::echo::run(&data)
            .map(|out| {
                Response::new(Payload {
                    data: Bytes::from(out),
                })
            })
            .map_err(kernel_status)
    }

    async fn describe(
        &self,
        _request: Request<DescribeRequest>,
    ) -> Result<Response<DescribeReply>, Status> {
        Ok(Response::new(DescribeReply {
            server: "hybridbench-server".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            workloads: hybridbench_kernels::WORKLOADS
                .iter()
                .map(|w| w.to_string())
                .collect(),
            file_descriptor_set: Bytes::from_static(DESCRIPTOR_SET),
            workers: u32::try_from(self.workers).unwrap_or(u32::MAX),
            pid: std::process::id(),
        }))
    }
}

/// Ask the kernel to SIGTERM us when the parent dies, and poll `getppid()` as a fallback (the
/// death signal follows the parent *thread*, and is Linux-only). Either way a message on
/// `stop` starts the graceful shutdown.
fn watch_parent(
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

async fn shutdown_signal(
    mut term: Signal,
    mut int: Signal,
    mut stop: mpsc::UnboundedReceiver<&'static str>,
    health: tonic_health::server::HealthReporter,
) {
    let reason = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        r = stop.recv() => r.unwrap_or("shutdown requested"),
    };
    eprintln!("hybridbench-server: {reason}: shutting down");
    health
        .set_not_serving::<KernelsServer<KernelService>>()
        .await;
    // In-flight calls get SHUTDOWN_GRACE to finish; then the process goes anyway.
    std::thread::spawn(|| {
        std::thread::sleep(SHUTDOWN_GRACE);
        eprintln!("hybridbench-server: graceful shutdown timed out; exiting");
        std::process::exit(0);
    });
}

fn announce(address: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {address}");
    let _ = out.flush();
}

async fn serve(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    // Signal handlers first, so that a SIGTERM from the parent-death setting below is caught.
    let (stop_tx, stop_rx) = mpsc::unbounded_channel();
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<KernelsServer<KernelService>>().await;
    let term = signal(SignalKind::terminate())?;
    let int = signal(SignalKind::interrupt())?;
    let signal = shutdown_signal(term, int, stop_rx, health.clone());
    if options.parent_watch {
        watch_parent(&options, stop_tx.clone())?;
    }

    let kernels = KernelsServer::new(KernelService {
        workers: options.workers,
    })
    .max_decoding_message_size(MAX_MESSAGE_BYTES)
    .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let mut builder = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        // Bodies are large: wide flow-control windows avoid a round trip per 64 KiB.
        .initial_stream_window_size(16 * 1024 * 1024)
        .initial_connection_window_size(32 * 1024 * 1024)
        .max_frame_size(1024 * 1024 - 1);
    let router = builder.add_service(health_service).add_service(kernels);

    match options.listen {
        Listen::Unix(path) => {
            // A stale socket file from a killed server would make bind fail.
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                use std::os::unix::fs::FileTypeExt;
                if meta.file_type().is_socket() {
                    let _ = std::fs::remove_file(&path);
                }
            }
            let listener = tokio::net::UnixListener::bind(&path)
                .map_err(|e| format!("cannot listen on unix:{}: {e}", path.display()))?;
            announce(&format!("unix:{}", path.display()));
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
            let result = router.serve_with_incoming_shutdown(incoming, signal).await;
            let _ = std::fs::remove_file(&path);
            result?;
        }
        Listen::Tcp(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let bound = listener.local_addr()?;
            announce(&bound.to_string());
            let incoming =
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            router
                .serve_with_incoming_shutdown(incoming, signal)
                .await?;
        }
    }
    Ok(())
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

fn main() -> ExitCode {
    tune_allocator();
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("hybridbench-server: error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
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
            eprintln!("hybridbench-server: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hybridbench-server: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn loopback_and_unix_are_accepted() {
        let o = parse_args(args(&["--listen", "127.0.0.1:0"])).unwrap();
        assert_eq!(o.listen, Listen::Tcp("127.0.0.1:0".parse().unwrap()));
        let o = parse_args(args(&["--listen=[::1]:5000"])).unwrap();
        assert_eq!(o.listen, Listen::Tcp("[::1]:5000".parse().unwrap()));
        let o = parse_args(args(&["--listen", "unix:/tmp/x.sock", "--workers", "3"])).unwrap();
        assert_eq!(o.listen, Listen::Unix("/tmp/x.sock".into()));
        assert_eq!(o.workers, 3);
        assert!(o.parent_watch && o.death_signal && o.parent_pid.is_none());
        let o = parse_args(args(&[
            "--listen",
            "unix:/x",
            "--parent-pid",
            "7",
            "--no-death-signal",
        ]))
        .unwrap();
        assert_eq!((o.parent_pid, o.death_signal), (Some(7), false));
        assert!(parse_args(args(&["--listen", "localhost:0"])).is_ok());
    }

    #[test]
    fn remote_needs_allow_remote() {
        let err = parse_args(args(&["--listen", "0.0.0.0:0"])).unwrap_err();
        assert!(err.contains("--allow-remote"), "{err}");
        let o = parse_args(args(&["--listen", "0.0.0.0:0", "--allow-remote"])).unwrap();
        assert_eq!(o.listen, Listen::Tcp("0.0.0.0:0".parse().unwrap()));
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(parse_args(args(&[])).unwrap_err().contains("--listen"));
        assert!(parse_args(args(&["--listen", "unix:"])).is_err());
        assert!(parse_args(args(&["--listen", "nonsense"])).is_err());
        assert!(parse_args(args(&["--listen", "127.0.0.1:0", "--workers", "0"])).is_err());
        assert!(parse_args(args(&["--bogus"]))
            .unwrap_err()
            .contains("--bogus"));
        assert_eq!(parse_args(args(&["--help"])).unwrap_err(), "");
    }

    #[test]
    fn kernel_errors_map_to_grpc_codes() {
        let s = kernel_status(KernelError::invalid("json: bad"));
        assert_eq!(
            (s.code(), s.message()),
            (tonic::Code::InvalidArgument, "json: bad")
        );
        assert_eq!(
            kernel_status(KernelError::unsupported("x")).code(),
            tonic::Code::Unimplemented
        );
        assert_eq!(
            kernel_status(KernelError::internal("x")).code(),
            tonic::Code::Internal
        );
    }

    #[test]
    fn descriptor_set_is_embedded() {
        let has = |needle: &[u8]| DESCRIPTOR_SET.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"hybridbench.proto") && has(b"hybridbench.v1") && has(b"Kernels"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kernels_answer_and_reject() {
        let svc = KernelService { workers: 2 };
        let out = svc
            .echo(Request::new(Payload {
                data: Bytes::from_static(b"hi"),
            }))
            .await
            .unwrap();
        assert_eq!(&out.into_inner().data[..], b"hi");
        let err = svc
            .json(Request::new(Payload {
                data: Bytes::from_static(b"{\"orders\": ["),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(!err.message().is_empty());
        let err = svc
            .timeseries(Request::new(Payload {
                data: Bytes::from_static(b"HBTS"),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("header"), "{}", err.message());
        let reply = svc
            .describe(Request::new(DescribeRequest {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.server, "hybridbench-server");
        assert_eq!(reply.workloads, ["json", "image", "timeseries", "echo"]);
    }
}
