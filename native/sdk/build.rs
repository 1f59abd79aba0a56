//! With feature `server`: generates the gRPC code from `proto/hybridbench.proto` without
//! protoc: protox parses the file into a FileDescriptorSet, tonic-prost-build generates the
//! messages and the server from it, and the encoded set is kept in OUT_DIR so that the server
//! can return it from `Describe` (the wire-agreement test compares it with the Python side's
//! descriptor).

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

    // Two passes over the same descriptors. The messages, once (OUT_DIR/hybridbench.v1.rs):
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(false)
        // `bytes::Bytes` for `bytes` fields: request bodies are sliced out of the received
        // buffer instead of copied into a Vec.
        .bytes(".")
        .compile_fds(fds.clone())?;
    // Then the server (OUT_DIR/server/hybridbench.v1.rs), every message taken from the first
    // pass but `Run`'s two, which it takes in wrappers that carry a traced call's clock
    // readings in and its span out, through a codec that times their decode and encode
    // (src/server/codec.rs): tonic decodes before the method and encodes after it returns.
    let server_out = out.join("server");
    std::fs::create_dir_all(&server_out)?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(server_out)
        .extern_path(".hybridbench.v1", "crate::server::pb")
        .extern_path(".hybridbench.v1.RunRequest", "crate::server::pb::RunCall")
        .extern_path(".hybridbench.v1.RunReply", "crate::server::pb::RunAnswer")
        .codec_path("crate::server::codec::TimingCodec")
        .compile_fds(fds)?;
    Ok(())
}

#[cfg(not(feature = "server"))]
fn main() {}
