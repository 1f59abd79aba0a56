//! The service over a test table: every status code, panics, Describe and Resources.

use prost::Message;

use super::*;
use crate::Result;

fn echo(input: &[u8]) -> Result<Vec<u8>> {
    Ok(input.to_vec())
}
fn slow_upper(input: &[u8]) -> Result<Vec<u8>> {
    std::thread::sleep(std::time::Duration::from_millis(2));
    Ok(input.to_ascii_uppercase())
}
fn invalid(_: &[u8]) -> Result<Vec<u8>> {
    Err(KernelError::invalid("invalid: bad input"))
}
fn unsupported(_: &[u8]) -> Result<Vec<u8>> {
    Err(KernelError::unsupported("unsupported: not here"))
}
fn internal(_: &[u8]) -> Result<Vec<u8>> {
    Err(KernelError::internal("internal: encoder failed"))
}
fn boom(_: &[u8]) -> Result<Vec<u8>> {
    panic!("kaboom in the kernel")
}

static TABLE: KernelTable = KernelTable::new(
    c"test-kernels",
    c"9.8.7",
    &[
        Kernel::new("echo", echo).inline(),
        Kernel::new("upper", slow_upper),
        Kernel::new("invalid", invalid),
        Kernel::new("unsupported", unsupported),
        Kernel::new("internal", internal),
        Kernel::new("panic", boom),
        Kernel::new("panic_inline", boom).inline(),
    ],
);

async fn run(
    svc: &KernelService,
    workload: &str,
    data: &'static [u8],
) -> std::result::Result<RunReply, Status> {
    let request = Request::new(RunRequest {
        workload: workload.into(),
        data: Bytes::from_static(data),
    });
    svc.run(request).await.map(Response::into_inner)
}

#[test]
fn kernel_errors_map_to_grpc_codes() {
    let s = kernel_status(KernelError::invalid("json: bad"));
    assert_eq!(
        (s.code(), s.message()),
        (tonic::Code::InvalidArgument, "json: bad")
    );
    let s = kernel_status(KernelError::unsupported("x"));
    assert_eq!(s.code(), tonic::Code::Unimplemented);
    assert_eq!(
        kernel_status(KernelError::internal("x")).code(),
        tonic::Code::Internal
    );
}

#[test]
fn run_reply_encodes_data_then_kernel_ns() {
    // The Python client's fast path hand-decodes this layout.
    let reply = RunReply {
        data: Bytes::from_static(b"ab"),
        kernel_ns: 5,
    };
    assert_eq!(reply.encode_to_vec(), [0x0a, 0x02, 0x61, 0x62, 0x10, 0x05]);
}

#[test]
fn descriptor_set_is_embedded() {
    let has = |needle: &[u8]| DESCRIPTOR_SET.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"hybridbench.proto") && has(b"hybridbench.v1") && has(b"Kernels"));
    assert!(has(b"RunRequest") && has(b"kernel_ns") && has(b"Resources"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_answers_and_times_the_kernel() {
    let svc = KernelService::new(&TABLE, 2);
    let reply = run(&svc, "echo", b"hi").await.unwrap();
    assert_eq!(&reply.data[..], b"hi");
    assert!(reply.kernel_ns > 0);
    let reply = run(&svc, "upper", b"hi").await.unwrap();
    assert_eq!(&reply.data[..], b"HI");
    assert!(reply.kernel_ns >= 2_000_000, "{}", reply.kernel_ns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_maps_failures_to_status_codes() {
    let svc = KernelService::new(&TABLE, 2);
    let err = run(&svc, "invalid", b"").await.unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (tonic::Code::InvalidArgument, "invalid: bad input")
    );
    let err = run(&svc, "unsupported", b"").await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    let err = run(&svc, "internal", b"").await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal);
    let err = run(&svc, "nope", b"").await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    assert!(err
        .message()
        .starts_with("unknown workload \"nope\"; known: echo, upper"));
    for workload in ["panic", "panic_inline"] {
        let err = run(&svc, workload, b"").await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::Internal, "{workload}");
        assert!(
            err.message().contains("kaboom in the kernel"),
            "{}",
            err.message()
        );
    }
    // The service survives its kernels' panics.
    assert_eq!(&run(&svc, "echo", b"ok").await.unwrap().data[..], b"ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_invalid() {
    static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let big = BIG.get_or_init(|| vec![0; crate::MAX_PAYLOAD_BYTES + 1]);
    let svc = KernelService::new(&TABLE, 2);
    let err = run(&svc, "upper", big).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().starts_with("upper: payload of"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn describe_and_resources() {
    let svc = KernelService::new(&TABLE, 3);
    let reply = svc
        .describe(Request::new(DescribeRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (reply.server.as_str(), reply.version.as_str()),
        ("test-kernels", "9.8.7")
    );
    assert_eq!(reply.workloads, TABLE.names().collect::<Vec<_>>());
    assert_eq!((reply.workers, reply.pid), (3, std::process::id()));
    assert_eq!(&reply.file_descriptor_set[..], DESCRIPTOR_SET);

    run(&svc, "echo", b"").await.unwrap();
    run(&svc, "nope", b"").await.unwrap_err();
    let reply = svc
        .resources(Request::new(ResourcesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((reply.pid, reply.calls), (std::process::id(), 2));
    assert!(reply.rss_bytes > 0 && reply.rss_peak_bytes >= reply.rss_bytes);
    assert!(reply.cpu_user_s + reply.cpu_system_s > 0.0);
    // a running process has faulted in at least its stack and code
    assert!(reply.minor_faults > 0, "{}", reply.minor_faults);
}
