package server

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"hybridbench/goengine/internal/pb"
	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/kernelerr"
)

var testTable = []kernels.Kernel{
	{Name: "echo", Run: func(b []byte) ([]byte, error) { return b, nil }, Inline: true},
	{Name: "upper", Run: func(b []byte) ([]byte, error) {
		time.Sleep(2 * time.Millisecond)
		return []byte(strings.ToUpper(string(b))), nil
	}},
	{Name: "invalid", Run: func([]byte) ([]byte, error) {
		return nil, kernelerr.Invalidf("invalid: bad input")
	}},
	{Name: "internal", Run: func([]byte) ([]byte, error) { return nil, errors.New("encoder failed") }},
	{Name: "panic", Run: func([]byte) ([]byte, error) { panic("kaboom in the kernel") }},
}

func newTestService() *Service {
	return NewService(testTable, 2, Info{Name: "test-kernels", Version: "9.8.7"})
}

func call(s *Service, workload string, data []byte) (*pb.RunReply, error) {
	return s.Run(context.Background(), &pb.RunRequest{Workload: workload, Data: data})
}

func TestRunAnswersAndTimesTheKernel(t *testing.T) {
	s := newTestService()
	reply, err := call(s, "upper", []byte("hi"))
	if err != nil || string(reply.Data) != "HI" || reply.KernelNs < 2_000_000 {
		t.Errorf("%v %v", reply, err)
	}
	if reply, err := call(s, "echo", []byte("x")); err != nil || string(reply.Data) != "x" {
		t.Errorf("%v %v", reply, err)
	}
}

func TestRunMapsFailuresToStatusCodes(t *testing.T) {
	s := newTestService()
	for _, c := range []struct {
		workload string
		code     codes.Code
		message  string
	}{
		{"invalid", codes.InvalidArgument, "invalid: bad input"},
		{"internal", codes.Internal, "encoder failed"},
		{"panic", codes.Internal, "panic: kernel panicked: kaboom in the kernel"},
		{"nope", codes.Unimplemented, `unknown workload "nope"; known: echo, upper, invalid`},
	} {
		_, err := call(s, c.workload, nil)
		st := status.Convert(err)
		if st.Code() != c.code || !strings.HasPrefix(st.Message(), c.message) {
			t.Errorf("%s: %v %q", c.workload, st.Code(), st.Message())
		}
	}
	if _, err := call(s, "echo", []byte("ok")); err != nil { // the panic left it serving
		t.Error(err)
	}
}

func TestOversizedRequestsAreInvalid(t *testing.T) {
	_, err := call(newTestService(), "upper", make([]byte, kernelerr.MaxPayloadBytes+1))
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), "upper: payload of") {
		t.Errorf("%v %q", st.Code(), st.Message())
	}
}

func TestDescribeAndResources(t *testing.T) {
	s := newTestService()
	reply, err := s.Describe(context.Background(), &pb.DescribeRequest{})
	if err != nil || reply.Server != "test-kernels" || reply.Version != "9.8.7" ||
		reply.Workers != 2 || int(reply.Pid) != os.Getpid() ||
		strings.Join(reply.Workloads, ",") != "echo,upper,invalid,internal,panic" {
		t.Fatalf("%v %v", reply, err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(reply.FileDescriptorSet, &set); err != nil || len(set.File) != 1 {
		t.Fatalf("descriptor set: %v", err)
	}
	file := set.File[0]
	if file.GetName() != "hybridbench.proto" || file.GetPackage() != "hybridbench.v1" ||
		file.GetService()[0].GetName() != "Kernels" {
		t.Errorf("descriptor %v", file)
	}

	_, _ = call(s, "echo", nil)
	_, _ = call(s, "nope", nil)
	res, err := s.Resources(context.Background(), &pb.ResourcesRequest{})
	if err != nil || res.Calls != 2 || int(res.Pid) != os.Getpid() || res.RssBytes == 0 ||
		res.RssPeakBytes < res.RssBytes || res.CpuUserS+res.CpuSystemS <= 0 ||
		res.MinorFaults == 0 {
		t.Errorf("%v %v", res, err)
	}
}

func TestStatusFieldsAreReadInBytes(t *testing.T) {
	rss, peak := parseStatus("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n")
	if rss != 1024*1024 || peak != 2048*1024 {
		t.Errorf("%d %d", rss, peak)
	}
	if rss, peak := parseStatus("Name:\tx\n"); rss != 0 || peak != 0 {
		t.Errorf("%d %d", rss, peak)
	}
}

func TestWorkersBoundConcurrentKernels(t *testing.T) {
	s := NewService(testTable, 1, Info{})
	start := time.Now()
	done := make(chan error, 3)
	for range 3 {
		go func() { _, err := call(s, "upper", []byte("a")); done <- err }()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed < 6*time.Millisecond {
		t.Errorf("3 calls of 2 ms on 1 worker took %v: they ran at once", elapsed)
	}
}
