//! The hybridbench workloads as pure-Rust, single-threaded kernels.
//!
//! Every kernel is *bytes in, bytes out* and computes exactly what the module docstrings of
//! `workloads/*.py` specify (they are the contract; the Python references are the ground truth).
//! The C ABI (`hybridbench-ffi`) and the gRPC server call [`run`] or the per-workload functions.

use std::fmt;

pub mod echo;
pub mod image;
pub mod json;
pub mod timeseries;

/// Largest request body any workload accepts (64 MiB), as `hybridbench.limits`.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024 * 1024;

/// The workloads [`run`] knows, in the order `hybridbench list` shows them.
pub const WORKLOADS: [&str; 4] = ["json", "image", "timeseries", "echo"];

/// What kind of failure a [`KernelError`] is; the FFI maps it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is not valid for the workload (Python: `WorkloadError`).
    InvalidInput,
    /// The workload is unknown or not implemented (Python: `UnsupportedError`).
    Unsupported,
    /// The kernel itself failed (encoder error, panic caught at the boundary...).
    Internal,
}

/// An error with a message that says what is wrong, e.g. `orders[3].items[0].qty: expected a
/// number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub kind: ErrorKind,
    pub message: String,
}

impl KernelError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidInput,
            message: message.into(),
        }
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Unsupported,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KernelError {}

pub type Result<T> = std::result::Result<T, KernelError>;

/// Reject bodies above [`MAX_PAYLOAD_BYTES`] with the same message as the Python harness.
pub fn check_payload_size(workload: &str, len: usize) -> Result<()> {
    if len > MAX_PAYLOAD_BYTES {
        return Err(KernelError::invalid(format!(
            "{workload}: payload of {len} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes \
             (64 MiB)"
        )));
    }
    Ok(())
}

/// Run `workload` on one request body and return the response body.
pub fn run(workload: &str, input: &[u8]) -> Result<Vec<u8>> {
    match workload {
        "json" => json::run(input),
        "image" => image::run(input),
        "timeseries" => timeseries::run(input),
        "echo" => echo::run(input),
        other => Err(KernelError::unsupported(format!(
            "unknown workload {other:?}; known: {}",
            WORKLOADS.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_workload_is_unsupported() {
        let err = run("nope", b"").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert!(
            err.message.contains("nope") && err.message.contains("json"),
            "{err}"
        );
    }

    #[test]
    fn oversized_payload_is_rejected_by_every_workload() {
        let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
        for w in WORKLOADS {
            let err = run(w, &big).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput, "{w}");
            assert!(err.message.contains("exceeds the limit"), "{w}: {err}");
        }
        assert!(check_payload_size("echo", MAX_PAYLOAD_BYTES).is_ok());
    }
}
