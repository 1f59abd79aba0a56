package server

// The server's logs and spans (issue 24), as the Rust and Python servers have them.
//
// Logs go to stderr: --log-format text (the default, "PROGRAM: message" as before) or json
// (one object a line from log/slog: time in RFC 3339 UTC, level, message, and trace_id when
// the line is about a call that carried a trace context). --log-calls adds a line per Run.
//
// Spans: with --trace-file PATH, a Run call whose metadata carries a sampled W3C traceparent
// gets a server span (a child of the caller's) with decode, kernel and encode children,
// written to PATH as OTLP JSON lines (what a collector's file exporter writes). The kernel
// span is made of the clock readings kernel_ns comes from. grpc-go decodes the request before
// the handler and encodes the reply after it, in the server's codec: a traced call's decode
// and encode spans are made of the clock readings the codec takes around them (codec.go); the
// server span starts at the decode's start and ends after the encode. With tracing off a call
// costs a nil check; with it on, an untraced call costs a metadata lookup and the codec's
// type switch.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// Logger writes the server's stderr lines in the format of --log-format.
type Logger struct {
	program string
	json    *slog.Logger // nil: text lines
	out     io.Writer
	// Calls: a line per Run call (--log-calls)
	Calls bool
}

// NewLogger writes to out as text ("program: message") or, for format "json", one JSON object
// a line with the keys time, level, message (slog's msg, renamed) and the line's attributes.
func NewLogger(program, format string, calls bool, out io.Writer) *Logger {
	logger := &Logger{program: program, out: out, Calls: calls}
	if format == "json" {
		logger.json = slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				switch {
				case len(groups) > 0:
				case a.Key == slog.MessageKey:
					a.Key = "message"
				case a.Key == slog.TimeKey:
					a.Value = slog.StringValue(a.Value.Time().UTC().Format(time.RFC3339Nano))
				}
				return a
			}}))
	}
	return logger
}

// Info logs a line; attrs go into a JSON line only (a text line says it all in message).
func (l *Logger) Info(message string, attrs ...any) { l.log(slog.LevelInfo, message, attrs) }

// Error logs a line at level ERROR.
func (l *Logger) Error(message string, attrs ...any) { l.log(slog.LevelError, message, attrs) }

func (l *Logger) log(level slog.Level, message string, attrs []any) {
	if l.json == nil {
		fmt.Fprintf(l.out, "%s: %s\n", l.program, message)
		return
	}
	l.json.Log(context.Background(), level, message, attrs...)
}

// Call logs one Run call (--log-calls), with the trace id when the call carried one.
func (l *Logger) Call(workload string, bytes int, kernelNs uint64, traceID string) {
	attrs := []any{"workload", workload, "bytes", bytes, "kernel_ns", kernelNs}
	if traceID != "" {
		attrs = append(attrs, "trace_id", traceID)
	}
	l.Info(fmt.Sprintf("Run %s: %d bytes, kernel %d ns", workload, bytes, kernelNs), attrs...)
}

// Tracing makes the spans of traced calls and writes them to one file.
type Tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// NewTracing appends spans to path, one OTLP JSON object a line.
func NewTracing(program, path string) (*Tracing, error) {
	file, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open --trace-file %s: %w", path, err)
	}
	exporter := &fileExporter{file: file, service: program}
	// the batcher's goroutine writes the spans, off the call's path (what services deploy)
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
	return &Tracing{provider: provider, tracer: provider.Tracer("hybridbench/goengine")}, nil
}

// Shutdown flushes and closes the file.
func (t *Tracing) Shutdown() { _ = t.provider.Shutdown(context.Background()) }

// sampledParent is the caller's context when tracing is on (t is not nil) and the call's
// metadata carries a sampled traceparent; an untraced call pays a nil check with tracing off,
// a metadata lookup with it on.
func (t *Tracing) sampledParent(ctx context.Context) (context.Context, bool) {
	if t == nil {
		return ctx, false
	}
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md.Get("traceparent")) == 0 {
		return ctx, false
	}
	parent := propagation.TraceContext{}.Extract(ctx, metadataCarrier(md))
	remote := trace.SpanContextFromContext(parent)
	return parent, remote.IsValid() && remote.IsSampled()
}

// StartCall opens the server span of a traced call under parent (sampledParent's context),
// starting at start: the first clock reading of its request's decode. It returns the context
// of the span's children and the span.
func (t *Tracing) StartCall(parent context.Context, start time.Time) (context.Context, trace.Span) {
	return t.tracer.Start(parent, "hybridbench.v1.Kernels/Run",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("rpc.system", "grpc"),
			attribute.String("rpc.service", "hybridbench.v1.Kernels"),
			attribute.String("rpc.method", "Run")))
}

// Child records a finished span under the span of ctx, from clock readings already taken.
func (t *Tracing) Child(ctx context.Context, name string, start, end time.Time,
	attrs ...attribute.KeyValue) {
	_, span := t.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	span.End(trace.WithTimestamp(end))
}

// Kernel records the kernel's span from the time it started and kernel_ns, the readings the
// reply carries.
func (t *Tracing) Kernel(ctx context.Context, workload string, start time.Time, ns uint64) {
	t.Child(ctx, "kernel", start, start.Add(time.Duration(ns)),
		attribute.String("hybridbench.workload", workload),
		attribute.Int64("hybridbench.kernel_ns", int64(ns)))
}

// FinishCall ends a server span, with the error of a failed call.
func FinishCall(span trace.Span, workload string, err error) {
	span.SetAttributes(attribute.String("hybridbench.workload", workload))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// CallerTraceID is the trace id of the caller's context (a valid W3C traceparent in the
// metadata), for a call's log line when no span is made; "" without one.
func CallerTraceID(ctx context.Context) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md.Get("traceparent")) == 0 {
		return ""
	}
	remote := trace.SpanContextFromContext(
		propagation.TraceContext{}.Extract(ctx, metadataCarrier(md)))
	if !remote.IsValid() {
		return ""
	}
	return remote.TraceID().String()
}

// metadataCarrier reads the W3C headers from gRPC metadata (keys are lower case there).
type metadataCarrier metadata.MD

func (c metadataCarrier) Get(key string) string {
	if values := metadata.MD(c).Get(key); len(values) > 0 {
		return values[0]
	}
	return ""
}

func (c metadataCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for key := range c {
		keys = append(keys, key)
	}
	return keys
}

// fileExporter writes spans as OTLP JSON lines: the ExportTraceServiceRequest message in
// OTLP's JSON mapping (ids in hex, 64-bit integers as strings, enums as numbers). Written
// here in a few structs rather than with the OTLP exporter modules, which bring an HTTP or
// gRPC client for what is a file.
type fileExporter struct {
	mu      sync.Mutex
	file    *os.File
	service string
}

type otlpValue struct {
	StringValue *string  `json:"stringValue,omitempty"`
	IntValue    *string  `json:"intValue,omitempty"`
	BoolValue   *bool    `json:"boolValue,omitempty"`
	DoubleValue *float64 `json:"doubleValue,omitempty"`
}

type otlpKeyValue struct {
	Key   string    `json:"key"`
	Value otlpValue `json:"value"`
}

type otlpStatus struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type otlpSpan struct {
	TraceID      string         `json:"traceId"`
	SpanID       string         `json:"spanId"`
	ParentSpanID string         `json:"parentSpanId,omitempty"`
	Name         string         `json:"name"`
	Kind         int            `json:"kind"`
	Start        string         `json:"startTimeUnixNano"`
	End          string         `json:"endTimeUnixNano"`
	Attributes   []otlpKeyValue `json:"attributes,omitempty"`
	Status       otlpStatus     `json:"status"`
}

type otlpScopeSpans struct {
	Scope struct {
		Name string `json:"name"`
	} `json:"scope"`
	Spans []otlpSpan `json:"spans"`
}

type otlpResourceSpans struct {
	Resource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	} `json:"resource"`
	ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
}

func otlpAttribute(kv attribute.KeyValue) otlpKeyValue {
	out := otlpKeyValue{Key: string(kv.Key)}
	switch kv.Value.Type() {
	case attribute.INT64:
		text := strconv.FormatInt(kv.Value.AsInt64(), 10)
		out.Value.IntValue = &text
	case attribute.BOOL:
		b := kv.Value.AsBool()
		out.Value.BoolValue = &b
	case attribute.FLOAT64:
		f := kv.Value.AsFloat64()
		out.Value.DoubleValue = &f
	default:
		text := kv.Value.Emit()
		out.Value.StringValue = &text
	}
	return out
}

// otlpKind: the SDK's SpanKind values are OTLP's (unspecified 0, internal 1, server 2...).
func otlpSpanOf(s sdktrace.ReadOnlySpan) otlpSpan {
	out := otlpSpan{TraceID: s.SpanContext().TraceID().String(),
		SpanID: s.SpanContext().SpanID().String(), Name: s.Name(), Kind: int(s.SpanKind()),
		Start: strconv.FormatInt(s.StartTime().UnixNano(), 10),
		End:   strconv.FormatInt(s.EndTime().UnixNano(), 10)}
	if s.Parent().IsValid() {
		out.ParentSpanID = s.Parent().SpanID().String()
	}
	for _, kv := range s.Attributes() {
		out.Attributes = append(out.Attributes, otlpAttribute(kv))
	}
	if s.Status().Code == codes.Error {
		out.Status = otlpStatus{Code: 2, Message: s.Status().Description}
	}
	return out
}

func (e *fileExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	scope := otlpScopeSpans{}
	scope.Scope.Name = "hybridbench/goengine"
	for _, s := range spans {
		scope.Spans = append(scope.Spans, otlpSpanOf(s))
	}
	resource := otlpResourceSpans{ScopeSpans: []otlpScopeSpans{scope}}
	resource.Resource.Attributes = []otlpKeyValue{
		otlpAttribute(attribute.String("service.name", e.service)),
		otlpAttribute(attribute.Int("process.pid", os.Getpid()))}
	line, err := json.Marshal(map[string]any{"resourceSpans": []otlpResourceSpans{resource}})
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.file.Write(append(line, '\n'))
	return err
}

func (e *fileExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.file.Close()
}
