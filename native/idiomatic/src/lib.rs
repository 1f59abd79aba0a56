//! The hybridbench workloads as a competent Rust team writes them in a day: `serde` with typed
//! structs for `json`, the `image` crate's defaults for `image` and `thumbnail` (with
//! `jpeg-encoder` where the crate's encoder falls short of the specification: see
//! `src/jpeg.rs`), std collections for `timeseries`. No hand-written parser, SIMD or custom
//! hash: this library is the "idiomatic Rust" tier the report sets beside the tuned kernels of
//! `native/kernels` (backend `ffi-idiomatic`; see `backends/ffi/idiomatic.py`).
//!
//! Every kernel computes what the module docstring of `workloads/<name>.py` specifies, with the
//! same error messages; where a library's default differs from the specification in a way the
//! verifier allows, the kernel's module says so. `text` follows the specification's own tables
//! (it forbids a Unicode database) with `chars()`, `String` tokens and the `fnv` crate.

pub mod echo;
pub mod image;
pub mod jpeg;
pub mod json;
pub mod text;
pub mod thumbnail;
pub mod timeseries;

pub use hybridbench_sdk::{check_payload_size, ErrorKind, KernelError, Result, MAX_PAYLOAD_BYTES};

hybridbench_sdk::kernels! {
    Kernel::new("json", json::run),
    Kernel::new("image", image::run),
    Kernel::new("timeseries", timeseries::run),
    Kernel::new("echo", echo::run),
    Kernel::new("thumbnail", thumbnail::run),
    Kernel::new("text", text::run),
}

// The table's own tests are in tests/table.rs: they check the crate's name.
