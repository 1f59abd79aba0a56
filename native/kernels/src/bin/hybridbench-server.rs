//! The built-in kernels behind the gRPC server (see `hybridbench_sdk::server`).

fn main() -> std::process::ExitCode {
    hybridbench_sdk::server::main(&hybridbench_kernels::KERNELS)
}
