// Command hybridbench-go-server is the Go engine of hybridbench: the kernels of
// hybridbench/goengine/kernels behind the gRPC contract of proto/hybridbench.proto (see
// package server for the command line).
package main

import (
	"fmt"
	"os"
	"runtime"

	"google.golang.org/grpc"

	"hybridbench/goengine/engine"
	"hybridbench/goengine/server"
)

// version is set at build time (-ldflags "-X main.version=...": setup.py passes hybridbench's).
var version = "devel"

func main() {
	info := server.Info{
		Name:    "hybridbench-goengine",
		Version: fmt.Sprintf("%s (%s, grpc-go %s)", version, runtime.Version(), grpc.Version),
	}
	os.Exit(server.Main(engine.Table, info, os.Args[1:]))
}
