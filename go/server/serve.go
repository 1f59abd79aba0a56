// Package server is the Go engine's gRPC server (grpc-go), speaking proto/hybridbench.proto
// exactly as the Rust SDK's server does:
//
//		hybridbench-go-server --listen unix:/tmp/hb/server.sock
//		hybridbench-go-server --listen 127.0.0.1:0          # prints the port it got
//		hybridbench-go-server --listen 0.0.0.0:50051 --allow-remote
//		hybridbench-go-server --list-workloads              # one name per line, then exits
//
//	  - Prints "listening on ADDR" on stdout once it accepts connections (unix:PATH, or IP:PORT
//	    with the port actually bound).
//	  - Serves hybridbench.v1.Kernels (the generic Run, Describe, Resources) and the standard
//	    grpc.health.v1.Health service (grpc-go's health package), for "" and the Kernels service.
//	  - Messages up to 80 MiB both ways; bodies up to 64 MiB.
//	  - At most --workers kernels run at once (default: the number of CPUs); inline kernels
//	    (echo) run on the calling goroutine.
//	  - Bad input: INVALID_ARGUMENT with the kernel's message; unknown workload: UNIMPLEMENTED
//	    naming the known ones; a kernel panic: INTERNAL.
//	  - SIGTERM / SIGINT: graceful shutdown (health goes NOT_SERVING, in-flight calls finish,
//	    hard stop after 5 s). Exits when its parent dies (PR_SET_PDEATHSIG plus a getppid()
//	    watchdog every 200 ms, watching --parent-pid or the parent at start);
//	    --no-death-signal keeps only the watchdog, --no-parent-watch disables both.
//	  - Binds loopback addresses only (or a Unix socket) unless --allow-remote is given.
package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"hybridbench/goengine/internal/pb"
	"hybridbench/goengine/kernels"
)

const (
	// MaxMessageBytes is the largest message accepted or sent: 64 MiB bodies plus framing.
	MaxMessageBytes = 80 * 1024 * 1024
	// shutdownGrace is how long a graceful shutdown may take before the server stops anyway.
	shutdownGrace = 5 * time.Second
)

// Tables resolves --engine and --ffi-library to a kernel table (package engine's Table).
type Tables func(engine, ffiLibrary string) ([]kernels.Kernel, error)

// Main is the whole program over the engines' kernel tables: parse the command line, then
// serve until told to stop. It returns the exit code: 0, 1 on failure, 2 for a bad command
// line (an unknown engine, or a library rust-cgo cannot load, included).
func Main(tables Tables, info Info, args []string) int {
	program := filepath.Base(os.Args[0])
	options, err := ParseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		fmt.Println(usage(program))
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: error: %v\n%s\n", program, err, usage(program))
		return 2
	}
	table, err := tables(options.Engine, options.FFILibrary)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: error: %v\n%s\n", program, err, usage(program))
		return 2
	}
	info.Version += " engine " + options.Engine // Describe says which table answers
	if options.ListWorkloads || options.ListEngines {
		for _, k := range table {
			if options.ListEngines {
				fmt.Printf("%s\t%s\n", k.Name, k.Engine)
			} else {
				fmt.Println(k.Name)
			}
		}
		return 0
	}
	log := NewLogger(program, options.LogFormat, options.LogCalls, os.Stderr)
	service := NewService(table, options.Workers, info)
	var tracing *Tracing
	if options.TraceFile != "" {
		if tracing, err = NewTracing(program, options.TraceFile); err != nil {
			log.Error(fmt.Sprintf("error: %v", err))
			return 1
		}
		defer tracing.Shutdown()
	}
	service.Observe(log, tracing)
	if err := serve(log, service, options); err != nil {
		log.Error(fmt.Sprintf("error: %v", err))
		return 1
	}
	return 0
}

// NewGRPCServer is the grpc-go server with the Kernels and health services registered; a
// service that traces (Observe) gets the codec that times a traced call's decode and encode.
func NewGRPCServer(service *Service, healthServer *health.Server) (*grpc.Server, error) {
	options := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		// Bodies are large: wide flow-control windows avoid a round trip per 64 KiB.
		grpc.InitialWindowSize(16 * 1024 * 1024),
		grpc.InitialConnWindowSize(32 * 1024 * 1024),
	}
	if service.tracing != nil {
		codec, err := newTimingCodec()
		if err != nil {
			return nil, err
		}
		options = append(options, grpc.ForceServerCodecV2(codec))
	}
	server := grpc.NewServer(options...)
	server.RegisterService(kernelsServiceDesc(), service)
	healthpb.RegisterHealthServer(server, healthServer)
	healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthServer.SetServingStatus(pb.Kernels_ServiceDesc.ServiceName,
		healthpb.HealthCheckResponse_SERVING)
	return server, nil
}

func serve(log *Logger, service *Service, options Options) error {
	// Signals first, so that a SIGTERM from the parent-death setting below is caught.
	stop := make(chan string, 1)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	if options.ParentWatch {
		if err := watchParent(options, stop); err != nil {
			return err
		}
	}
	listener, address, err := listen(options.Listen)
	if err != nil {
		return err
	}
	healthServer := health.NewServer()
	server, err := NewGRPCServer(service, healthServer)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	fmt.Printf("listening on %s\n", address) // stdout is unbuffered in Go
	var reason string
	select {
	case sig := <-signals:
		reason = signalName(sig)
	case reason = <-stop:
	case err := <-served:
		return err
	}
	log.Info(reason + ": shutting down")
	healthServer.Shutdown() // every service NOT_SERVING
	graceful := make(chan struct{})
	go func() { server.GracefulStop(); close(graceful) }()
	select {
	case <-graceful:
	case <-time.After(shutdownGrace):
		log.Info("graceful shutdown timed out; stopping")
		server.Stop()
	}
	if options.Listen.Network == "unix" {
		_ = os.Remove(options.Listen.Address) // the listener removes it too; make sure
	}
	return nil
}

func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// listen binds the address; a stale socket file of a killed server is removed first (bind
// would fail on it). It returns the listener and the address to announce.
func listen(spec Listen) (net.Listener, string, error) {
	if spec.Network == "unix" {
		if info, err := os.Lstat(spec.Address); err == nil && info.Mode().Type() == fs.ModeSocket {
			_ = os.Remove(spec.Address)
		}
		listener, err := net.Listen("unix", spec.Address)
		if err != nil {
			return nil, "", fmt.Errorf("cannot listen on unix:%s: %w", spec.Address, err)
		}
		return listener, "unix:" + spec.Address, nil
	}
	listener, err := net.Listen("tcp", spec.Address)
	if err != nil {
		return nil, "", fmt.Errorf("cannot listen on %s: %w", spec.Address, err)
	}
	return listener, listener.Addr().String(), nil
}
