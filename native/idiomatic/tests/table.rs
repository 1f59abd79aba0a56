//! The kernel table as the built library has it (its name is the crate's: an integration test,
//! since the unit tests compile under another package, hybridbench-unit-tests).

use hybridbench_idiomatic::{ErrorKind, KERNELS, MAX_PAYLOAD_BYTES};

#[test]
fn the_table_names_this_library_and_its_workloads() {
    assert_eq!(KERNELS.library(), "hybridbench-idiomatic");
    let names: Vec<_> = KERNELS.names().collect();
    assert_eq!(
        names,
        ["json", "image", "timeseries", "echo", "thumbnail", "text"]
    );
}

#[test]
fn an_unknown_workload_is_unsupported() {
    let err = KERNELS.run("nonesuch", b"").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
}

#[test]
fn every_kernel_rejects_oversized_payloads_itself() {
    let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
    for kernel in KERNELS.kernels() {
        let err = (kernel.run)(&big).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{}", kernel.name);
        assert!(
            err.message.contains("exceeds the limit"),
            "{}: {err}",
            kernel.name
        );
    }
}
