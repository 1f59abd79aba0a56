//! With feature `server`: generates the gRPC code from `proto/hybridbench.proto` without
//! protoc: protox parses the file into a FileDescriptorSet, tonic-prost-build generates the
//! server from it, and the encoded set is kept in OUT_DIR so that the server can return it from
//! `Describe` (the wire-agreement test compares it with the Python side's descriptor).

#[cfg(feature = "server")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use prost::Message;
    use std::path::PathBuf;

    // The proto's path relative to this crate: the same in a checkout and in the copy an
    // installed hybridbench carries (hybridbench/data, the checkout's layout). Printed as is
    // (cargo reads it relative to the package root), so that the build script's output, and
    // with it the fingerprint of every crate above it, does not depend on where the sources
    // are: a build from the sdist then reuses a target directory the checkout built.
    const PROTO_DIR: &str = "../../proto";
    const PROTO: &str = "../../proto/hybridbench.proto";
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let (proto_dir, proto) = (manifest.join(PROTO_DIR), manifest.join(PROTO));
    println!("cargo:rerun-if-changed={PROTO}");

    let mut fds = protox::compile([&proto], [&proto_dir])?;
    // Source locations (comments, spans) are not part of the wire contract.
    for file in &mut fds.file {
        file.source_code_info = None;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("hybridbench_descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        // `bytes::Bytes` for `bytes` fields: request bodies are sliced out of the received
        // buffer instead of copied into a Vec.
        .bytes(".")
        .compile_fds(fds)?;
    Ok(())
}

#[cfg(not(feature = "server"))]
fn main() {}
