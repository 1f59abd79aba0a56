package server

// The decode and encode of a traced Run call, timed for its spans (issue 24). grpc-go decodes
// a request before the method's handler runs and encodes its reply after the handler returns,
// both in the server's codec; so, when tracing is on, the server is given timingCodec (the
// proto codec with clocks around a traced call's message) and Run a handler of its own
// (handleRun) that hands a traced call's messages to the codec in wrappers: the request in a
// tracedRequest, which the codec fills with the decode's clock readings, and the reply in a
// tracedReply, whose encoded callback records the encode span and ends the server span. Every
// other message, and every untraced call, goes through the proto codec as it is, after one
// type switch.

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	"hybridbench/goengine/internal/pb"
)

// tracedRequest is what a traced Run call decodes into: the request, the clock readings
// around its protobuf decode (zero until the codec has decoded it) and the bytes decoded.
type tracedRequest struct {
	request    *pb.RunRequest
	start, end time.Time
	bytes      int
}

// tracedReply is what a traced Run call answers: the reply and what to do with the clock
// readings around its protobuf encode and the bytes encoded.
type tracedReply struct {
	reply   *pb.RunReply
	encoded func(start, end time.Time, bytes int)
}

// timingCodec is grpc-go's proto codec with a traced Run call's decode and encode timed.
type timingCodec struct {
	proto encoding.CodecV2
}

// newTimingCodec wraps the proto codec grpc-go registers (package encoding/proto).
func newTimingCodec() (timingCodec, error) {
	codec := encoding.GetCodecV2(grpcproto.Name)
	if codec == nil {
		return timingCodec{}, fmt.Errorf("grpc-go has no %q codec registered", grpcproto.Name)
	}
	return timingCodec{proto: codec}, nil
}

func (c timingCodec) Marshal(v any) (mem.BufferSlice, error) {
	traced, ok := v.(*tracedReply)
	if !ok {
		return c.proto.Marshal(v)
	}
	start := time.Now()
	data, err := c.proto.Marshal(traced.reply)
	traced.encoded(start, time.Now(), data.Len())
	return data, err
}

func (c timingCodec) Unmarshal(data mem.BufferSlice, v any) error {
	traced, ok := v.(*tracedRequest)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	traced.bytes = data.Len()
	traced.start = time.Now()
	err := c.proto.Unmarshal(data, traced.request)
	traced.end = time.Now()
	return err
}

// Name is the proto codec's: the codec answers the same content subtype.
func (c timingCodec) Name() string { return c.proto.Name() }

// kernelsServiceDesc is the generated service description with Run's handler replaced by
// handleRun.
func kernelsServiceDesc() *grpc.ServiceDesc {
	desc := pb.Kernels_ServiceDesc
	desc.Methods = append([]grpc.MethodDesc(nil), desc.Methods...)
	for i := range desc.Methods {
		if desc.Methods[i].MethodName == "Run" {
			desc.Methods[i].Handler = handleRun
		}
	}
	return &desc
}

// handleRun is Run's handler in place of the generated one (pb's _Kernels_Run_Handler): after
// the check Run used to make (sampledParent: a nil check with tracing off), an untraced call
// goes the generated way; a traced call decodes into a tracedRequest and answers a
// tracedReply (see timingCodec), without the unary interceptor (NewGRPCServer installs none).
func handleRun(srv any, ctx context.Context, dec func(any) error,
	interceptor grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*Service)
	if parent, ok := s.tracing.sampledParent(ctx); ok {
		return s.runTraced(ctx, parent, dec)
	}
	in := new(pb.RunRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return s.Run(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: pb.Kernels_Run_FullMethodName}
	handler := func(ctx context.Context, req any) (any, error) {
		return s.Run(ctx, req.(*pb.RunRequest))
	}
	return interceptor(ctx, in, info, handler)
}
