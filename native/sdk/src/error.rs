//! Errors of kernels, shared by the C ABI (status codes) and the server (gRPC status codes).

use std::fmt;

/// Largest request body any workload accepts (64 MiB), as `hybridbench.limits`.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024 * 1024;

/// What kind of failure a [`KernelError`] is; the C ABI and the server map it to a status code.
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

/// The text of a caught panic (`panic!` payloads are a `&str` or a `String`).
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_limit_is_inclusive() {
        assert!(check_payload_size("echo", MAX_PAYLOAD_BYTES).is_ok());
        let err = check_payload_size("echo", MAX_PAYLOAD_BYTES + 1).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.starts_with("echo: payload of"), "{err}");
    }

    #[test]
    fn panic_text_reads_str_and_string_payloads() {
        let p = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        assert_eq!(panic_text(&*p), "boom");
        let p = std::panic::catch_unwind(|| panic!("{}", 42)).unwrap_err();
        assert_eq!(panic_text(&*p), "42");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_text(&*p), "unknown panic");
    }
}
