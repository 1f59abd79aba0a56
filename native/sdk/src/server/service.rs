//! `hybridbench.v1.Kernels` over a [`KernelTable`]: the generic `Run`, `Describe`, `Resources`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use prost::bytes::Bytes;
use tonic::{Request, Response, Status};

use super::observe::{self, TracedCall};
use super::pb::kernels_server::Kernels;
use super::pb::{
    DescribeReply, DescribeRequest, ResourcesReply, ResourcesRequest, RunAnswer, RunCall, RunReply,
    RunRequest,
};
use super::resources;
use crate::error::{check_payload_size, panic_text, ErrorKind, KernelError};
use crate::kernel::{Kernel, KernelTable};

/// The FileDescriptorSet this server was generated from (see build.rs).
pub(crate) const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/hybridbench_descriptor.bin"));

#[derive(Debug)]
pub(crate) struct KernelService {
    table: &'static KernelTable,
    workers: usize,
    /// `Run` calls answered so far (successful or not).
    calls: AtomicU64,
}

impl KernelService {
    pub(crate) fn new(table: &'static KernelTable, workers: usize) -> Self {
        Self {
            table,
            workers,
            calls: AtomicU64::new(0),
        }
    }
}

/// The gRPC status of a kernel error (the Python client maps them back to its exceptions).
pub(crate) fn kernel_status(err: KernelError) -> Status {
    match err.kind {
        ErrorKind::InvalidInput => Status::invalid_argument(err.message),
        ErrorKind::Unsupported => Status::unimplemented(err.message),
        ErrorKind::Internal => Status::internal(err.message),
    }
}

fn panic_status(workload: &str, payload: &(dyn std::any::Any + Send)) -> Status {
    Status::internal(format!(
        "{workload}: kernel panicked: {}",
        panic_text(payload)
    ))
}

/// A kernel's answer, its own time (the reply's `kernel_ns`) and when it started (a traced
/// call's kernel span is made of these same readings).
type Timed = (Vec<u8>, u64, Instant);

/// Run the kernel and measure the time inside it (the reply's `kernel_ns`).
fn timed(kernel: &Kernel, data: &[u8]) -> Result<Timed, KernelError> {
    check_payload_size(kernel.name, data.len())?;
    let start = Instant::now();
    let output = (kernel.run)(data)?;
    let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    Ok((output, ns, start))
}

/// Run a kernel on the calling (reactor) thread: for kernels marked `inline`.
fn run_inline(kernel: &'static Kernel, data: &[u8]) -> Result<Timed, Status> {
    match catch_unwind(AssertUnwindSafe(|| timed(kernel, data))) {
        Ok(result) => result.map_err(kernel_status),
        Err(panic) => Err(panic_status(kernel.name, &*panic)),
    }
}

/// Run a CPU-bound kernel on the blocking pool (bounded by `--workers`), so that concurrent
/// calls run in parallel and the reactor keeps moving bytes.
async fn offload(kernel: &'static Kernel, data: Bytes) -> Result<Timed, Status> {
    match tokio::task::spawn_blocking(move || timed(kernel, &data)).await {
        Ok(result) => result.map_err(kernel_status),
        Err(join) if join.is_panic() => Err(panic_status(kernel.name, &*join.into_panic())),
        Err(join) => Err(Status::internal(format!(
            "{}: kernel task failed: {join}",
            kernel.name
        ))),
    }
}

impl KernelService {
    /// The named kernel on `data`, inline or on the blocking pool.
    async fn run_kernel(&self, workload: &str, data: Bytes) -> Result<Timed, Status> {
        let kernel = self
            .table
            .get(workload.as_bytes())
            .ok_or_else(|| kernel_status(self.table.unknown_name(workload.as_bytes())))?;
        if kernel.inline {
            run_inline(kernel, &data)
        } else {
            offload(kernel, data).await
        }
    }
}

/// A `Run` call's log line (`--log-calls`).
fn log_run(workload: &str, bytes: usize, result: &Result<Timed, Status>, trace_id: Option<&str>) {
    let kernel_ns = result.as_ref().map_or(0, |r| r.1);
    observe::log_call(workload, bytes, kernel_ns, trace_id);
}

#[tonic::async_trait]
impl Kernels for KernelService {
    async fn run(&self, request: Request<RunCall>) -> Result<Response<RunAnswer>, Status> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let traced = observe::start_call(request.metadata(), request.get_ref().decoded);
        let untraced_id = match traced {
            None if observe::log_calls() => observe::caller_trace_id(request.metadata()),
            _ => None,
        };
        let RunRequest { workload, data } = request.into_inner().request;
        let bytes = data.len();
        let result = self.run_kernel(&workload, data).await;
        if observe::log_calls() {
            let trace_id = traced.as_ref().map(TracedCall::trace_id).or(untraced_id);
            log_run(&workload, bytes, &result, trace_id.as_deref());
        }
        if let Some(call) = &traced {
            if let Ok((_, kernel_ns, started)) = &result {
                call.kernel(&workload, *started, *kernel_ns);
            }
            call.describe(&workload, result.as_ref().err());
        }
        let (output, kernel_ns, _) = match result {
            Ok(timed) => timed,
            Err(status) => {
                if let Some(call) = traced {
                    call.end();
                }
                return Err(status);
            }
        };
        // A traced call's span goes with the reply: the codec ends it after the encode.
        Ok(Response::new(RunAnswer {
            reply: RunReply {
                data: Bytes::from(output),
                kernel_ns,
            },
            call: traced,
        }))
    }

    async fn describe(
        &self,
        _request: Request<DescribeRequest>,
    ) -> Result<Response<DescribeReply>, Status> {
        Ok(Response::new(DescribeReply {
            server: self.table.library().into(),
            version: self.table.version().into(),
            workloads: self.table.names().map(String::from).collect(),
            file_descriptor_set: Bytes::from_static(DESCRIPTOR_SET),
            workers: u32::try_from(self.workers).unwrap_or(u32::MAX),
            pid: std::process::id(),
        }))
    }

    async fn resources(
        &self,
        _request: Request<ResourcesRequest>,
    ) -> Result<Response<ResourcesReply>, Status> {
        let (rss_bytes, rss_peak_bytes) = resources::rss_bytes();
        let (cpu_user_s, cpu_system_s) = resources::cpu_seconds();
        let (minor_faults, major_faults) = resources::page_faults();
        Ok(Response::new(ResourcesReply {
            pid: std::process::id(),
            rss_bytes,
            rss_peak_bytes,
            cpu_user_s,
            cpu_system_s,
            calls: self.calls.load(Ordering::Relaxed),
            minor_faults,
            major_faults,
        }))
    }
}

#[cfg(test)]
mod tests;
