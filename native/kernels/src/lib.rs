//! The hybridbench workloads as pure-Rust, single-threaded kernels.
//!
//! Every kernel is *bytes in, bytes out* and computes exactly what the module docstrings of
//! `workloads/*.py` specify (they are the contract; the Python references are the ground truth).
//! The list below is the only place the workloads are named on the Rust side: from it the SDK
//! builds this crate's C ABI (its `cdylib`) and its gRPC server (`src/bin/hybridbench-server.rs`).

pub mod echo;
pub mod image;
pub mod json;
mod kept;
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

// The table's own tests are in tests/table.rs: they check the crate's name.
