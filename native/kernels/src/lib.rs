//! The hybridbench workloads as pure-Rust, single-threaded kernels.
//!
//! Every kernel is *bytes in, bytes out* and computes exactly what the module docstrings of
//! `workloads/*.py` specify (they are the contract; the Python references are the ground truth).
//! The list below is the only place the workloads are named on the Rust side: from it the SDK
//! builds this crate's C ABI (its `cdylib`) and its gRPC server (`src/bin/hybridbench-server.rs`).

pub mod echo;
pub mod image;
pub mod json;
pub mod text;
pub mod thumbnail;
pub mod timeseries;

// The kernels' shared vocabulary, kept at this crate's root for the kernel modules.
pub use hybridbench_sdk::{check_payload_size, ErrorKind, KernelError, Result, MAX_PAYLOAD_BYTES};

hybridbench_sdk::kernels! {
    Kernel::new("json", json::run),
    Kernel::new("image", image::run),
    Kernel::new("thumbnail", thumbnail::run),
    Kernel::new("timeseries", timeseries::run),
    // A copy: cheaper than a thread hop (server) or an allocation (C ABI).
    Kernel::new("echo", echo::run).inline().into_fn(echo::run_into),
    Kernel::new("text", text::run),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workloads_in_the_order_hybridbench_lists_them() {
        assert_eq!(KERNELS.library(), "hybridbench-kernels");
        let names: Vec<_> = KERNELS.names().collect();
        assert_eq!(
            names,
            ["json", "image", "thumbnail", "timeseries", "echo", "text"]
        );
    }

    #[test]
    fn unknown_workload_is_unsupported() {
        let err = KERNELS.run("nope", b"").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert!(
            err.message.contains("nope") && err.message.contains("json"),
            "{err}"
        );
    }

    #[test]
    fn oversized_payload_is_rejected_by_every_workload() {
        let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
        for kernel in KERNELS.kernels() {
            // the kernels check by themselves too, not only behind the SDK's check
            let err = (kernel.run)(&big).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput, "{}", kernel.name);
            assert!(
                err.message.contains("exceeds the limit"),
                "{}: {err}",
                kernel.name
            );
        }
        assert!(check_payload_size("echo", MAX_PAYLOAD_BYTES).is_ok());
    }
}
