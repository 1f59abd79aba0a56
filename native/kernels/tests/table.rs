//! The kernel table as the built library has it (its name is the crate's: an integration test,
//! since the unit tests compile under another package, hybridbench-unit-tests).

use hybridbench_kernels::{check_payload_size, ErrorKind, KERNELS, MAX_PAYLOAD_BYTES};

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
