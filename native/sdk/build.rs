//! With feature `server`: generates the gRPC code from `proto/hybridbench.proto` without
//! protoc: protox parses the file into a FileDescriptorSet, tonic-prost-build generates the
//! server from it, and the encoded set is kept in OUT_DIR so that the server can return it from
//! `Describe` (the wire-agreement test compares it with the Python side's descriptor).

#[cfg(feature = "server")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use prost::Message;
    use std::path::PathBuf;

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest.join("../../proto");
    let proto = proto_dir.join("hybridbench.proto");
    println!("cargo:rerun-if-changed={}", proto.display());

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
