package server

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"hybridbench/goengine/internal/pb"
)

// tracedServer serves the test table with tracing to a file on a Unix socket, as the program
// does, and returns a client, the trace file and a stop function that flushes it.
func tracedServer(t *testing.T) (pb.KernelsClient, string, func()) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "spans.jsonl")
	tracing, err := NewTracing("srv", path)
	if err != nil {
		t.Fatal(err)
	}
	service := newTestService()
	service.Observe(NewLogger("srv", "text", false, &bytes.Buffer{}), tracing)
	server, err := NewGRPCServer(service, health.NewServer())
	if err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(listener) }()
	conn, err := grpc.NewClient("unix:"+listener.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	stop := func() {
		_ = conn.Close()
		server.GracefulStop()
		tracing.Shutdown()
	}
	return pb.NewKernelsClient(conn), path, stop
}

func parseInt64(t *testing.T, text string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTracedCallsTimeTheirDecodeAndEncodeInTheServerSpan(t *testing.T) {
	client, path, stop := tracedServer(t)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", sampled)
	body := bytes.Repeat([]byte("x"), 1<<20)
	reply, err := client.Run(ctx, &pb.RunRequest{Workload: "echo", Data: body})
	if err != nil || !bytes.Equal(reply.GetData(), body) {
		t.Fatalf("traced call: %v", err)
	}
	// an untraced call, and a failing traced one: no span, and a span without encode
	if _, err := client.Run(context.Background(), &pb.RunRequest{Workload: "echo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Run(ctx, &pb.RunRequest{Workload: "invalid"}); err == nil {
		t.Fatal("invalid: no error")
	}
	stop()
	servers := map[string]otlpSpan{}
	children := map[string]map[string]otlpSpan{}
	for _, s := range readSpans(t, path) {
		if s.Kind == 2 {
			servers[s.SpanID] = s
		} else {
			if children[s.ParentSpanID] == nil {
				children[s.ParentSpanID] = map[string]otlpSpan{}
			}
			children[s.ParentSpanID][s.Name] = s
		}
	}
	if len(servers) != 2 {
		t.Fatalf("want the server spans of the 2 traced calls, got %v", servers)
	}
	for id, server := range servers {
		names := children[id]
		if server.Status.Code == 2 { // the invalid call: decoded, failed, nothing encoded
			if _, ok := names["decode"]; !ok || len(names) != 1 {
				t.Errorf("failed call's children: %v", names)
			}
			continue
		}
		decode, kernel, encode := names["decode"], names["kernel"], names["encode"]
		if len(names) != 3 || decode.Name == "" || kernel.Name == "" || encode.Name == "" {
			t.Fatalf("children: %v", names)
		}
		order := []int64{parseInt64(t, server.Start), parseInt64(t, decode.Start), parseInt64(t, decode.End),
			parseInt64(t, kernel.Start), parseInt64(t, kernel.End), parseInt64(t, encode.Start),
			parseInt64(t, encode.End), parseInt64(t, server.End)}
		for i := 1; i < len(order); i++ {
			if order[i] < order[i-1] {
				t.Errorf("times out of order at %d: %v", i, order)
			}
		}
		if order[0] != order[1] {
			t.Errorf("server span starts at %d, its decode at %d", order[0], order[1])
		}
		if got := intAttribute(t, decode, "hybridbench.request_bytes"); got <= len(body) {
			t.Errorf("decoded %d bytes, the body alone is %d", got, len(body))
		}
		if got := intAttribute(t, encode, "hybridbench.reply_bytes"); got <= len(body) {
			t.Errorf("encoded %d bytes, the body alone is %d", got, len(body))
		}
	}
}

func intAttribute(t *testing.T, span otlpSpan, key string) int {
	t.Helper()
	for _, kv := range span.Attributes {
		if kv.Key == key && kv.Value.IntValue != nil {
			return int(parseInt64(t, *kv.Value.IntValue))
		}
	}
	t.Fatalf("no %s in %+v", key, span)
	return 0
}

func TestTheCodecPassesOtherMessagesThrough(t *testing.T) {
	codec, err := newTimingCodec()
	if err != nil {
		t.Fatal(err)
	}
	request := &pb.RunRequest{Workload: "echo", Data: []byte("hi")}
	data, err := codec.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.Marshal(request)
	if !bytes.Equal(data.Materialize(), want) {
		t.Errorf("plain message encoded as %x, want %x", data.Materialize(), want)
	}
	var plain pb.RunRequest
	if err := codec.Unmarshal(data, &plain); err != nil || !proto.Equal(&plain, request) {
		t.Errorf("plain decode: %v %v", &plain, err)
	}
	traced := &tracedRequest{request: new(pb.RunRequest)}
	if err := codec.Unmarshal(data, traced); err != nil || !proto.Equal(traced.request, request) {
		t.Errorf("traced decode: %v %v", traced.request, err)
	}
	if traced.start.IsZero() || traced.end.Before(traced.start) {
		t.Errorf("decode times: %v %v", traced.start, traced.end)
	}
	if codec.Name() != "proto" {
		t.Errorf("name %q", codec.Name())
	}
}
