//! Bind, announce, serve until a signal or the parent's death, shut down gracefully.

use std::io::Write;
use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;

use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use super::args::{Listen, Options, Tls};
use super::observe;
use super::parent::watch_parent;
use super::pb::kernels_server::KernelsServer;
use super::service::KernelService;
use crate::kernel::KernelTable;

/// Largest message accepted or sent: 64 MiB bodies plus room for the framing.
pub(crate) const MAX_MESSAGE_BYTES: usize = 80 * 1024 * 1024;
/// How long a graceful shutdown may take before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
    observe::info(&format!("{reason}: shutting down"));
    health
        .set_not_serving::<KernelsServer<KernelService>>()
        .await;
    // In-flight calls get SHUTDOWN_GRACE to finish; then the process goes anyway.
    std::thread::spawn(|| {
        std::thread::sleep(SHUTDOWN_GRACE);
        observe::info("graceful shutdown timed out; exiting");
        observe::shutdown_tracing();
        std::process::exit(0);
    });
}

/// The line the client waits for: `listening on unix:PATH` or `listening on IP:PORT`.
fn announce(address: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {address}");
    let _ = out.flush();
}

/// A stale socket file from a killed server would make bind fail.
fn remove_stale_socket(path: &std::path::Path) {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The server's TLS settings from the PEM files; an unreadable file names itself.
fn tls_config(tls: &Tls) -> Result<ServerTlsConfig, String> {
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
    };
    let identity = Identity::from_pem(read(&tls.cert, "--tls-cert")?, read(&tls.key, "--tls-key")?);
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca, "--tls-client-ca")?));
    }
    Ok(config)
}

pub(crate) async fn serve(
    table: &'static KernelTable,
    options: Options,
) -> Result<(), Box<dyn std::error::Error>> {
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

    let kernels = KernelsServer::new(KernelService::new(table, options.workers))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let mut builder = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        // Bodies are large: wide flow-control windows avoid a round trip per 64 KiB.
        .initial_stream_window_size(16 * 1024 * 1024)
        .initial_connection_window_size(32 * 1024 * 1024)
        .max_frame_size(1024 * 1024 - 1);
    if let Some(tls) = &options.tls {
        builder = builder.tls_config(tls_config(tls)?)?;
    }
    let router = builder.add_service(health_service).add_service(kernels);

    match options.listen {
        Listen::Unix(path) => {
            remove_stale_socket(&path);
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
            announce(&listener.local_addr()?.to_string());
            let incoming =
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            router
                .serve_with_incoming_shutdown(incoming, signal)
                .await?;
        }
    }
    Ok(())
}
