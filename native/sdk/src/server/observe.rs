//! The server's logs and spans (issue 24), as the Go and Python servers have them.
//!
//! Logs go to stderr: `--log-format text` (the default, `PROGRAM: message` as before) or
//! `json` (one object a line: `time` in RFC 3339 UTC, `level`, `message`, and `trace_id` when
//! the line is about a call that carried a trace context). `--log-calls` adds one line per
//! `Run` call.
//!
//! Spans: with `--trace-file PATH`, a `Run` call whose metadata carries a sampled W3C
//! `traceparent` gets a server span (a child of the caller's) with a `kernel` child, written
//! by the SDK's batch processor (its own thread) to PATH as OTLP JSON lines (one `{"resourceSpans":[...]}` a line, what a collector's file
//! exporter writes). The kernel span is made of the clock readings `kernel_ns` comes from, so
//! the two agree. tonic decodes the request before the handler runs and encodes the reply
//! after it returns, so those steps are outside the server span (the span says so in its
//! `hybridbench.codec` attribute). A call without a trace context costs one `OnceLock` read.

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

/// A traced call: its server span, open until `finish`.
pub(crate) struct TracedCall {
    cx: Context,
}

/// The server span of a call, when tracing is on and the call carries a sampled
/// `traceparent`; None otherwise (the common case, at the cost of one `OnceLock` read).
pub(crate) fn start_call(metadata: &tonic::metadata::MetadataMap) -> Option<TracedCall> {
    let tracing = TRACING.get()?;
    metadata.get("traceparent")?;
    let parent = tracing.propagator.extract(&Metadata(metadata));
    let remote = parent.span().span_context().clone();
    if !remote.is_valid() || !remote.is_sampled() {
        return None;
    }
    let span = tracing
        .tracer
        .span_builder("hybridbench.v1.Kernels/Run")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", "hybridbench.v1.Kernels"),
            KeyValue::new("rpc.method", "Run"),
            KeyValue::new(
                "hybridbench.codec",
                "tonic decodes before and encodes after this span",
            ),
        ])
        .start_with_context(&tracing.tracer, &parent);
    Some(TracedCall {
        cx: parent.with_span(span),
    })
}

impl TracedCall {
    /// The trace id, as logs show it (32 hex digits).
    pub(crate) fn trace_id(&self) -> String {
        self.cx.span().span_context().trace_id().to_string()
    }

    /// The kernel's span, from the `Instant` it started at and `kernel_ns`, the very readings
    /// the reply carries.
    pub(crate) fn kernel(&self, workload: &str, started: Instant, kernel_ns: u64) {
        let Some(tracing) = TRACING.get() else {
            return;
        };
        let start = SystemTime::now() - started.elapsed();
        let mut span = tracing
            .tracer
            .span_builder("kernel")
            .with_start_time(start)
            .with_attributes([
                KeyValue::new("hybridbench.workload", workload.to_string()),
                KeyValue::new(
                    "hybridbench.kernel_ns",
                    i64::try_from(kernel_ns).unwrap_or(i64::MAX),
                ),
            ])
            .start_with_context(&tracing.tracer, &self.cx);
        span.end_with_timestamp(start + Duration::from_nanos(kernel_ns));
    }

    /// End the server span, with the workload and, for a failed call, its status.
    pub(crate) fn finish(self, workload: &str, failure: Option<&tonic::Status>) {
        let span = self.cx.span();
        span.set_attribute(KeyValue::new("hybridbench.workload", workload.to_string()));
        if let Some(status) = failure {
            span.set_status(opentelemetry::trace::Status::error(
                status.message().to_string(),
            ));
        }
        span.end();
    }
}
