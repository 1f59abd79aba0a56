package server

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

func TestJSONLogLinesHaveTimeLevelMessageAndTraceID(t *testing.T) {
	var out bytes.Buffer
	log := NewLogger("srv", "json", true, &out)
	log.Call("echo", 64, 1234, "4bf92f3577b34da6a3ce929d0e0e4736")
	log.Info("SIGTERM: shutting down")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	var call map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &call); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"time", "level", "message", "trace_id", "workload"} {
		if _, ok := call[key]; !ok {
			t.Errorf("no %q in %v", key, call)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, call["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}
	if call["kernel_ns"].(float64) != 1234 || call["level"] != "INFO" {
		t.Errorf("line: %v", call)
	}
}

func TestTextLogLinesStayAsTheyWere(t *testing.T) {
	var out bytes.Buffer
	NewLogger("srv", "text", false, &out).Info("SIGTERM: shutting down")
	if out.String() != "srv: SIGTERM: shutting down\n" {
		t.Errorf("got %q", out.String())
	}
}

// readSpans reads back a trace file: every span of every OTLP JSON line.
func readSpans(t *testing.T, path string) []otlpSpan {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spans []otlpSpan
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var message struct {
			ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
		}
		if err := json.Unmarshal([]byte(line), &message); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		for _, r := range message.ResourceSpans {
			for _, s := range r.ScopeSpans {
				spans = append(spans, s.Spans...)
			}
		}
	}
	return spans
}

const sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestServerSpansAreOTLPJSONUnderTheCallersTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	tracing, err := NewTracing("srv", path)
	if err != nil {
		t.Fatal(err)
	}
	md := metadata.Pairs("traceparent", sampled)
	parent, ok := tracing.sampledParent(metadata.NewIncomingContext(context.Background(), md))
	if !ok {
		t.Fatal("no trace context for a sampled traceparent")
	}
	start := time.Now()
	ctx, span := tracing.StartCall(parent, start)
	tracing.Kernel(ctx, "echo", start, 5000)
	FinishCall(span, "echo", nil)
	tracing.Shutdown()
	byName := map[string]otlpSpan{}
	for _, s := range readSpans(t, path) {
		byName[s.Name] = s
	}
	server, kernel := byName["hybridbench.v1.Kernels/Run"], byName["kernel"]
	if server.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || server.ParentSpanID != "00f067aa0ba902b7" {
		t.Errorf("server span not under the caller's: %+v", server)
	}
	if kernel.ParentSpanID != server.SpanID || server.Kind != 2 {
		t.Errorf("kernel %+v, server %+v", kernel, server)
	}
	if server.Start != strconv.FormatInt(start.UnixNano(), 10) || kernel.Start != server.Start {
		t.Errorf("start times: kernel %+v, server %+v, want %d", kernel, server, start.UnixNano())
	}
}

func TestCallsWithoutATraceContextGetNoSpan(t *testing.T) {
	tracing, err := NewTracing("srv", filepath.Join(t.TempDir(), "spans.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer tracing.Shutdown()
	if _, ok := tracing.sampledParent(context.Background()); ok {
		t.Error("a trace context without a traceparent")
	}
	md := metadata.Pairs("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	if _, ok := tracing.sampledParent(metadata.NewIncomingContext(context.Background(), md)); ok {
		t.Error("a trace context for an unsampled traceparent")
	}
	var off *Tracing // tracing off
	md = metadata.Pairs("traceparent", sampled)
	if _, ok := off.sampledParent(metadata.NewIncomingContext(context.Background(), md)); ok {
		t.Error("a trace context with tracing off")
	}
}
