package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"hybridbench/goengine/internal/pb"
	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/kernelerr"
)

// invalidInput is what kernels' bad-input errors implement (see package kernelerr).
type invalidInput interface{ InvalidInput() bool }

// Service is hybridbench.v1.Kernels over a table of kernels: the generic Run, Describe,
// Resources.
type Service struct {
	pb.UnimplementedKernelsServer
	table   []kernels.Kernel
	byName  map[string]*kernels.Kernel
	workers int
	// slots bounds the kernels running at once to --workers (inline kernels take none)
	slots chan struct{}
	calls atomic.Uint64
	info  Info
	// log and tracing: nil unless the command line asks for call logs or spans
	log     *Logger
	tracing *Tracing
}

// Info is what Describe says about the server besides its workloads.
type Info struct {
	Name, Version string
}

// NewService serves table with at most workers kernels running at once.
func NewService(table []kernels.Kernel, workers int, info Info) *Service {
	s := &Service{table: table, byName: make(map[string]*kernels.Kernel, len(table)),
		workers: workers, slots: make(chan struct{}, workers), info: info}
	for i := range table {
		s.byName[table[i].Name] = &table[i]
	}
	return s
}

// Names lists the workloads in table order.
func (s *Service) Names() []string {
	names := make([]string, len(s.table))
	for i, k := range s.table {
		names[i] = k.Name
	}
	return names
}

// Observe makes the service log and trace its calls (--log-format, --log-calls,
// --trace-file); either may be nil.
func (s *Service) Observe(log *Logger, tracing *Tracing) {
	s.log, s.tracing = log, tracing
}

// Run runs one workload on one body; the reply carries the time spent inside the kernel. The
// gRPC server calls it for an untraced call (handleRun); a traced one goes to runTraced.
func (s *Service) Run(ctx context.Context, request *pb.RunRequest) (*pb.RunReply, error) {
	s.calls.Add(1)
	reply, _, err := s.run(ctx, request)
	if s.log != nil && s.log.Calls {
		s.logCall(request, reply, err, CallerTraceID(ctx))
	}
	return reply, err
}

// runTraced is Run for a call under a sampled trace context (parent): dec decodes the request
// into a tracedRequest, which the codec fills with the decode's clock readings, and the
// answer is a tracedReply, whose encode the codec times. The server span starts when the
// decode starts and ends after the encode, with the decode, kernel and encode as children.
func (s *Service) runTraced(ctx, parent context.Context, dec func(any) error) (any, error) {
	in := &tracedRequest{request: new(pb.RunRequest)}
	err := dec(in)
	if in.start.IsZero() { // no message reached the codec: nothing to time
		return nil, err
	}
	callCtx, span := s.tracing.StartCall(parent, in.start)
	s.tracing.Child(callCtx, "decode", in.start, in.end,
		attribute.Int("hybridbench.request_bytes", in.bytes))
	if err != nil {
		FinishCall(span, "", err)
		return nil, err
	}
	s.calls.Add(1)
	request, workload := in.request, in.request.GetWorkload()
	reply, start, err := s.run(ctx, request)
	if err == nil {
		s.tracing.Kernel(callCtx, workload, start, reply.KernelNs)
	}
	if s.log != nil && s.log.Calls {
		s.logCall(request, reply, err, span.SpanContext().TraceID().String())
	}
	if err != nil {
		FinishCall(span, workload, err)
		return nil, err
	}
	return &tracedReply{reply: reply, encoded: func(start, end time.Time, bytes int) {
		s.tracing.Child(callCtx, "encode", start, end,
			attribute.Int("hybridbench.reply_bytes", bytes))
		FinishCall(span, workload, nil) // now: after the encode's end
	}}, nil
}

// logCall writes a call's line (--log-calls).
func (s *Service) logCall(request *pb.RunRequest, reply *pb.RunReply, err error, traceID string) {
	var kernelNs uint64
	if err == nil {
		kernelNs = reply.KernelNs
	}
	s.log.Call(request.GetWorkload(), len(request.GetData()), kernelNs, traceID)
}

// run is Run without the logs and spans; it also returns when the kernel started.
func (s *Service) run(ctx context.Context, request *pb.RunRequest) (*pb.RunReply, time.Time, error) {
	kernel, ok := s.byName[request.GetWorkload()]
	if !ok {
		return nil, time.Time{}, status.Errorf(codes.Unimplemented,
			"unknown workload %q; known: %s", request.GetWorkload(), strings.Join(s.Names(), ", "))
	}
	data := request.GetData()
	if err := kernelerr.CheckPayloadSize(kernel.Name, len(data)); err != nil {
		return nil, time.Time{}, kernelStatus(err)
	}
	if !kernel.Inline {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-ctx.Done():
			return nil, time.Time{}, status.FromContextError(ctx.Err()).Err()
		}
	}
	output, kernelNs, start, err := timed(kernel, data)
	if err != nil {
		return nil, start, err
	}
	return &pb.RunReply{Data: output, KernelNs: kernelNs}, start, nil
}

// timed runs the kernel, measuring the time inside it; a panic becomes INTERNAL and the server
// lives on.
func timed(kernel *kernels.Kernel, data []byte) (output []byte, ns uint64, start time.Time, err error) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "%s: kernel panicked: %v\n%s", kernel.Name, p, debug.Stack())
			err = status.Errorf(codes.Internal, "%s: kernel panicked: %v", kernel.Name, p)
		}
	}()
	start = time.Now()
	output, err = kernel.Run(data)
	ns = uint64(time.Since(start).Nanoseconds())
	if err != nil {
		return nil, 0, start, kernelStatus(err)
	}
	return output, ns, start, nil
}

// kernelStatus maps a kernel's error to a gRPC status (the Python client maps them back):
// bad input is INVALID_ARGUMENT with the kernel's own message, anything else INTERNAL.
func kernelStatus(err error) error {
	var invalid invalidInput
	if errors.As(err, &invalid) && invalid.InvalidInput() {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// DescriptorSet is the FileDescriptorSet this server was generated from: the descriptor
// embedded in the generated code, so a stale generation shows up in the wire-agreement test.
func DescriptorSet() []byte {
	set := &descriptorpb.FileDescriptorSet{
		File: []*descriptorpb.FileDescriptorProto{protodesc.ToFileDescriptorProto(pb.File_hybridbench_proto)},
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		panic(fmt.Sprintf("cannot encode the embedded descriptor: %v", err))
	}
	return raw
}

// Describe says what this server is, which workloads it has, and the protocol it was built from.
func (s *Service) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeReply, error) {
	return &pb.DescribeReply{
		Server:            s.info.Name,
		Version:           s.info.Version,
		Workloads:         s.Names(),
		FileDescriptorSet: DescriptorSet(),
		Workers:           uint32(s.workers),
		Pid:               uint32(os.Getpid()),
	}, nil
}

// Resources reports the server's own memory and CPU, and the Run calls answered so far.
func (s *Service) Resources(context.Context, *pb.ResourcesRequest) (*pb.ResourcesReply, error) {
	rss, peak := rssBytes()
	user, system := cpuSeconds()
	minor, major := pageFaults()
	return &pb.ResourcesReply{Pid: uint32(os.Getpid()), RssBytes: rss, RssPeakBytes: peak,
		CpuUserS: user, CpuSystemS: system, Calls: s.calls.Load(),
		MinorFaults: minor, MajorFaults: major}, nil
}
