//! The server's logs and spans (issue 24), as the Go and Python servers have them.
//!
//! Logs go to stderr: `--log-format text` (the default, `PROGRAM: message` as before) or
//! `json` (one object a line: `time` in RFC 3339 UTC, `level`, `message`, and `trace_id` when
//! the line is about a call that carried a trace context). `--log-calls` adds one line per
//! `Run` call.
//!
//! Spans: with `--trace-file PATH`, a `Run` call whose metadata carries a sampled W3C
//! `traceparent` gets a server span (a child of the caller's) with `decode`, `kernel` and
//! `encode` children, written by the SDK's batch processor (its own thread) to PATH as OTLP
//! JSON lines (one `{"resourceSpans":[...]}` a line, what a collector's file exporter writes).
//! The kernel span is made of the clock readings `kernel_ns` comes from, so the two agree.
//! tonic decodes the request before the handler runs and encodes the reply after it returns,
//! in the codec: the decode and encode spans are made of the readings the codec takes around
//! them (`codec.rs`), the server span starts with the decode and ends after the encode. With
//! tracing off a call costs two `OnceLock` reads (the codec's and the handler's); with it on,
//! a call without a trace context also costs the decode's two clock readings and a metadata
//! lookup.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{Span, SpanKind, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use serde_json::{json, Map, Value};

use super::codec::Decoded;
use super::program;

/// How log lines look (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        match value {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("--log-format {other:?}: expected text or json")),
        }
    }
}

#[derive(Debug)]
struct Logging {
    format: LogFormat,
    calls: bool,
}

static LOGGING: OnceLock<Logging> = OnceLock::new();
static TRACING: OnceLock<Tracing> = OnceLock::new();

/// Set the log format and whether every call is logged; before this, lines are text.
pub(crate) fn init_logging(format: LogFormat, calls: bool) {
    let _ = LOGGING.set(Logging { format, calls });
}

/// Whether every `Run` call gets a log line (`--log-calls`).
pub(crate) fn log_calls() -> bool {
    LOGGING.get().is_some_and(|l| l.calls)
}

/// One log line on stderr, in the chosen format; `fields` are added to a JSON line (and
/// are already in `message` for a text line).
pub(crate) fn log(level: &str, message: &str, trace_id: Option<&str>, fields: Map<String, Value>) {
    let format = LOGGING.get().map_or(LogFormat::Text, |l| l.format);
    let line = match format {
        LogFormat::Text => format!("{}: {message}", program()),
        LogFormat::Json => {
            let mut object = Map::new();
            let now = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
            object.insert("time".into(), now.into());
            object.insert("level".into(), level.into());
            object.insert("message".into(), message.into());
            if let Some(id) = trace_id {
                object.insert("trace_id".into(), id.into());
            }
            object.extend(fields);
            Value::Object(object).to_string()
        }
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// `log` at INFO without fields.
pub(crate) fn info(message: &str) {
    log("INFO", message, None, Map::new());
}

/// `log` at ERROR without fields.
pub(crate) fn error(message: &str) {
    log("ERROR", message, None, Map::new());
}

/// The line of one `Run` call (`--log-calls`).
pub(crate) fn log_call(workload: &str, bytes: usize, kernel_ns: u64, trace_id: Option<&str>) {
    let fields = json!({"workload": workload, "bytes": bytes, "kernel_ns": kernel_ns});
    let Value::Object(fields) = fields else {
        return;
    };
    log(
        "INFO",
        &format!("Run {workload}: {bytes} bytes, kernel {kernel_ns} ns"),
        trace_id,
        fields,
    );
}

/// Spans to OTLP JSON lines in one file.
#[derive(Debug)]
struct FileExporter {
    file: Mutex<File>,
    resource: ResourceAttributesWithSchema,
}

impl SpanExporter for FileExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let resource_spans = group_spans_by_resource_and_scope(batch, &self.resource);
        let request = ExportTraceServiceRequest { resource_spans };
        let mut line = serde_json::to_vec(&request)
            .map_err(|e| OTelSdkError::InternalFailure(format!("OTLP JSON: {e}")))?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| OTelSdkError::InternalFailure("trace file lock poisoned".into()))?;
        file.write_all(&line)
            .map_err(|e| OTelSdkError::InternalFailure(format!("trace file: {e}")))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}

#[derive(Debug)]
struct Tracing {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    propagator: TraceContextPropagator,
}

/// Write the spans of traced calls to `path` from now on (`--trace-file`).
pub(crate) fn init_tracing(path: &Path) -> Result<(), String> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open --trace-file {}: {e}", path.display()))?;
    let exporter = FileExporter {
        file: Mutex::new(file),
        resource: ResourceAttributesWithSchema::default(),
    };
    let resource = Resource::builder_empty()
        .with_service_name(program().to_string())
        .with_attribute(KeyValue::new("process.pid", i64::from(std::process::id())))
        .build();
    let provider = SdkTracerProvider::builder()
        // a thread of its own writes the spans, off the call's path (what services deploy)
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("hybridbench-sdk");
    let _ = TRACING.set(Tracing {
        provider,
        tracer,
        propagator: TraceContextPropagator::new(),
    });
    Ok(())
}

/// Flush and close the trace file (at shutdown).
pub(crate) fn shutdown_tracing() {
    if let Some(tracing) = TRACING.get() {
        let _ = tracing.provider.shutdown();
    }
}

struct Metadata<'a>(&'a tonic::metadata::MetadataMap);

impl Extractor for Metadata<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter_map(|key| match key {
                tonic::metadata::KeyRef::Ascii(name) => Some(name.as_str()),
                tonic::metadata::KeyRef::Binary(_) => None,
            })
            .collect()
    }
}

/// The trace id of the caller's context (a valid W3C `traceparent` in the metadata), for a
/// call's log line when no span is made (tracing off).
pub(crate) fn caller_trace_id(metadata: &tonic::metadata::MetadataMap) -> Option<String> {
    metadata.get("traceparent")?;
    let parent = TraceContextPropagator::new().extract(&Metadata(metadata));
    let remote = parent.span().span_context().clone();
    remote.is_valid().then(|| remote.trace_id().to_string())
}

/// Whether spans are written (`--trace-file`): the codec times `Run` decodes only then.
pub(crate) fn tracing_on() -> bool {
    TRACING.get().is_some()
}

/// A traced call: its server span, open until the encode of its reply (or `end`), and the
/// clock pair its `Instant`s are turned into wall time with (one pair per call, so that its
/// spans are in the order their readings were taken).
#[derive(Debug)]
pub(crate) struct TracedCall {
    cx: Context,
    anchor: (SystemTime, Instant),
}

/// The server span of a call, when tracing is on and the call carries a sampled
/// `traceparent`; None otherwise (the common case, at the cost of one `OnceLock` read). The
/// span starts when the request's decode started (`decoded`, the codec's readings), with a
/// `decode` child made of those readings.
pub(crate) fn start_call(
    metadata: &tonic::metadata::MetadataMap,
    decoded: Option<Decoded>,
) -> Option<TracedCall> {
    let tracing = TRACING.get()?;
    metadata.get("traceparent")?;
    let parent = tracing.propagator.extract(&Metadata(metadata));
    let remote = parent.span().span_context().clone();
    if !remote.is_valid() || !remote.is_sampled() {
        return None;
    }
    let anchor = (SystemTime::now(), Instant::now());
    let start = decoded.map_or(anchor.0, |d| wall(anchor, d.start));
    let span = tracing
        .tracer
        .span_builder("hybridbench.v1.Kernels/Run")
        .with_kind(SpanKind::Server)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", "hybridbench.v1.Kernels"),
            KeyValue::new("rpc.method", "Run"),
        ])
        .start_with_context(&tracing.tracer, &parent);
    let call = TracedCall {
        cx: parent.with_span(span),
        anchor,
    };
    if let Some(d) = decoded {
        let bytes = KeyValue::new("hybridbench.request_bytes", bytes_attribute(d.bytes));
        call.child("decode", d.start, d.end, vec![bytes]);
    }
    Some(call)
}

fn bytes_attribute(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// `instant` in wall time, by the clock pair `anchor` read together.
fn wall(anchor: (SystemTime, Instant), instant: Instant) -> SystemTime {
    let (system, monotonic) = anchor;
    match instant.checked_duration_since(monotonic) {
        Some(after) => system + after,
        None => system - monotonic.duration_since(instant),
    }
}

impl TracedCall {
    /// The trace id, as logs show it (32 hex digits).
    pub(crate) fn trace_id(&self) -> String {
        self.cx.span().span_context().trace_id().to_string()
    }

    /// A finished child span of the call's, from two clock readings.
    fn child(&self, name: &'static str, start: Instant, end: Instant, attributes: Vec<KeyValue>) {
        let Some(tracing) = TRACING.get() else {
            return;
        };
        let mut span = tracing
            .tracer
            .span_builder(name)
            .with_start_time(wall(self.anchor, start))
            .with_attributes(attributes)
            .start_with_context(&tracing.tracer, &self.cx);
        span.end_with_timestamp(wall(self.anchor, end));
    }

    /// The kernel's span, from the `Instant` it started at and `kernel_ns`, the very readings
    /// the reply carries.
    pub(crate) fn kernel(&self, workload: &str, started: Instant, kernel_ns: u64) {
        let attributes = vec![
            KeyValue::new("hybridbench.workload", workload.to_string()),
            KeyValue::new(
                "hybridbench.kernel_ns",
                i64::try_from(kernel_ns).unwrap_or(i64::MAX),
            ),
        ];
        let end = started + Duration::from_nanos(kernel_ns);
        self.child("kernel", started, end, attributes);
    }

    /// The server span's workload and, for a failed call, its status.
    pub(crate) fn describe(&self, workload: &str, failure: Option<&tonic::Status>) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new("hybridbench.workload", workload.to_string()));
        if let Some(status) = failure {
            span.set_status(opentelemetry::trace::Status::error(
                status.message().to_string(),
            ));
        }
    }

    /// The reply's encode (the codec's readings) as a child, then the end of the server span.
    pub(crate) fn encoded(self, start: Instant, end: Instant, bytes: usize) {
        let bytes = KeyValue::new("hybridbench.reply_bytes", bytes_attribute(bytes));
        self.child("encode", start, end, vec![bytes]);
        self.end();
    }

    /// End the server span now (a failed call has no reply to encode).
    pub(crate) fn end(self) {
        let end = wall(self.anchor, Instant::now());
        self.cx.span().end_with_timestamp(end);
    }
}
