//! hybridbench SDK: write a kernel once, as a plain function, and get from one crate both
//! native artefacts the harness measures:
//!
//! * the C-ABI library (`include/hybridbench.h`), the crate's `cdylib`, loaded by the `ffi`
//!   backend through cffi;
//! * the gRPC server (`proto/hybridbench.proto`), a one-line binary target calling
//!   [`server::main`] (feature `server`, on by default), spawned by the `grpc` backend.
//!
//! A kernel crate (`crate-type = ["cdylib", "rlib"]`) lists its kernels exactly once:
//!
//! ```ignore
//! // src/lib.rs
//! hybridbench_sdk::kernels! {
//!     Kernel::new("json", json::run),
//!     Kernel::new("echo", echo::run).inline().into_fn(echo::run_into),
//! }
//! // src/bin/hybridbench-server.rs
//! fn main() -> std::process::ExitCode { hybridbench_sdk::server::main(&my_kernels::KERNELS) }
//! ```
//!
//! A kernel is `fn(&[u8]) -> Result<Vec<u8>, KernelError>`: bytes in, bytes out; an error says
//! what is wrong with the input ([`KernelError::invalid`]) or that the input asks for something
//! the kernel does not do ([`KernelError::unsupported`]); a panic is caught at both boundaries
//! and reported as an internal error. Inputs above [`MAX_PAYLOAD_BYTES`] are rejected before
//! the kernel runs.

pub mod abi;
mod error;
mod kernel;
mod macros;
mod output;
#[cfg(feature = "server")]
pub mod server;
pub mod version;

pub use error::{check_payload_size, ErrorKind, KernelError, Result, MAX_PAYLOAD_BYTES};
pub use kernel::{copy_into, IntoFn, Kernel, KernelFn, KernelTable};
pub use output::output_buffer;
