//! The service over a test table: every status code, panics, Describe and Resources; and
//! `Run` through the generated server and its codec, traced.

use prost::Message;
use serde_json::Value;
use tonic::codec::{Codec as _, EncodeBody, Streaming};
use tonic::codegen::{http, Service as _};

use super::*;
use crate::server::pb::kernels_server::KernelsServer;
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
    let request = Request::new(RunCall::from(RunRequest {
        workload: workload.into(),
        data: Bytes::from_static(data),
    }));
    svc.run(request).await.map(|r| r.into_inner().reply)
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

#[test]
fn the_run_wrappers_are_their_messages_on_the_wire() {
    let reply = RunReply {
        data: Bytes::from_static(b"ab"),
        kernel_ns: 5,
    };
    let answer = RunAnswer {
        reply: reply.clone(),
        call: None,
    };
    assert_eq!(answer.encode_to_vec(), reply.encode_to_vec());
    let request = RunRequest {
        workload: "echo".into(),
        data: Bytes::from_static(b"hi"),
    };
    let call = RunCall::decode(&request.encode_to_vec()[..]).unwrap();
    assert_eq!((call.request, call.decoded), (request, None));
}

/// One `Run` through the generated server, in process: the request framed as a client frames
/// it, then tonic's decode (the server's codec), the method, tonic's encode (the codec again),
/// and the reply read back as a client reads it.
async fn run_through_server(
    workload: &str,
    data: &'static [u8],
    traceparent: Option<&str>,
) -> std::result::Result<RunReply, Status> {
    let mut client = tonic_prost::ProstCodec::<RunRequest, RunReply>::default();
    let request = RunRequest {
        workload: workload.into(),
        data: Bytes::from_static(data),
    };
    let source = tokio_stream::once(Ok(request));
    let body = EncodeBody::new_client(client.encoder(), source, None, None);
    let mut builder = http::Request::post("/hybridbench.v1.Kernels/Run")
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(value) = traceparent {
        builder = builder.header("traceparent", value);
    }
    let request = builder.body(tonic::body::Body::new(body)).unwrap();
    let mut server = KernelsServer::new(KernelService::new(&TABLE, 2));
    let response = server.call(request).await.unwrap();
    let (parts, body) = response.into_parts();
    if let Some(status) = Status::from_header_map(&parts.headers) {
        return Err(status); // a failed call answers with its status in the headers
    }
    let mut replies = Streaming::new_response(client.decoder(), body, parts.status, None, None);
    Ok(replies.message().await?.expect("a reply"))
}

/// Every span of an OTLP JSON lines file.
fn read_spans(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut spans = Vec::new();
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        for resource in line["resourceSpans"].as_array().unwrap() {
            for scope in resource["scopeSpans"].as_array().unwrap() {
                spans.extend(scope["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    spans
}

fn nanos(span: &Value, key: &str) -> u64 {
    match &span[key] {
        Value::String(text) => text.parse().unwrap(),
        other => other.as_u64().unwrap(),
    }
}

const SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// The only test that turns tracing on: it is process-wide (a OnceLock), and the other tests'
// calls carry no trace context, so they leave no span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_run_times_its_decode_and_encode_inside_its_server_span() {
    let path = std::env::temp_dir().join(format!("hb-sdk-spans-{}.jsonl", std::process::id()));
    observe::init_tracing(&path).unwrap();
    let reply = run_through_server("echo", b"hi", Some(SAMPLED))
        .await
        .unwrap();
    assert_eq!((&reply.data[..], reply.kernel_ns > 0), (&b"hi"[..], true));
    run_through_server("echo", b"untraced", None).await.unwrap();
    let failed = run_through_server("invalid", b"", Some(SAMPLED)).await;
    assert_eq!(failed.unwrap_err().code(), tonic::Code::InvalidArgument);
    observe::shutdown_tracing(); // flushes the batch processor
    let spans = read_spans(&path);
    let _ = std::fs::remove_file(&path);

    let servers: Vec<&Value> = spans.iter().filter(|s| s["kind"] == 2).collect();
    assert_eq!(servers.len(), 2, "{spans:?}"); // the untraced call has none
    for server in servers {
        let children: std::collections::HashMap<&str, &Value> = spans
            .iter()
            .filter(|s| s["parentSpanId"] == server["spanId"])
            .map(|s| (s["name"].as_str().unwrap(), s))
            .collect();
        let mut names: Vec<&str> = children.keys().copied().collect();
        names.sort_unstable();
        if server["attributes"].to_string().contains("invalid") {
            // decoded, failed in the kernel, nothing encoded
            assert_eq!(names, ["decode"], "{spans:?}");
            continue;
        }
        assert_eq!(names, ["decode", "encode", "kernel"], "{spans:?}");
        let times = [
            nanos(server, "startTimeUnixNano"),
            nanos(children["decode"], "startTimeUnixNano"),
            nanos(children["decode"], "endTimeUnixNano"),
            nanos(children["kernel"], "startTimeUnixNano"),
            nanos(children["kernel"], "endTimeUnixNano"),
            nanos(children["encode"], "startTimeUnixNano"),
            nanos(children["encode"], "endTimeUnixNano"),
            nanos(server, "endTimeUnixNano"),
        ];
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert_eq!(times[0], times[1], "the server span starts with the decode");
    }
}
