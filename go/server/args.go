package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
)

// Options is the command line of the server, the same flags as the Rust SDK's server and the
// Python one (backends/grpc/supervisor.py passes them).
type Options struct {
	Listen        Listen
	Workers       int
	ParentWatch   bool // exit when the parent process goes away (death signal + watchdog)
	DeathSignal   bool // set PR_SET_PDEATHSIG (it follows the parent *thread*)
	ParentPID     int  // the parent to watch; 0: the parent at start
	ListWorkloads bool
	ListEngines   bool // one "workload<TAB>engine" line per workload (kernels.Kernel.Engine)
	// Engine chooses the kernel table (package engine: idiomatic, best, rust-cgo);
	// FFILibrary is the Rust C-ABI library of engine rust-cgo.
	Engine     string
	FFILibrary string
	// LogFormat is "text" or "json" (stderr lines); LogCalls logs every Run; TraceFile is
	// where the spans of traced calls go (OTLP JSON lines), "" for none.
	LogFormat string
	LogCalls  bool
	TraceFile string
}

// Listen is where to serve: a Unix socket path, or a TCP address.
type Listen struct {
	Network string // "unix" or "tcp"
	Address string
}

func usage(program string) string {
	return fmt.Sprintf("usage: %s --listen unix:PATH|HOST:PORT [--allow-remote] [--workers N] "+
		"[--parent-pid PID] [--no-death-signal] [--no-parent-watch]\n"+
		"       [--engine idiomatic|best|rust-cgo] [--ffi-library PATH]\n"+
		"       [--log-format text|json] [--log-calls] [--trace-file PATH]\n"+
		"       %s --list-workloads|--list-engines [--engine ...] [--ffi-library PATH]",
		program, program)
}

// errHelp asks for the usage on stdout and exit 0.
var errHelp = errors.New("help requested")

// ParseArgs parses the arguments after the program name; `--flag value` and `--flag=value`
// both work.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "", "")
	allowRemote := fs.Bool("allow-remote", false, "")
	workers := fs.Int("workers", runtime.NumCPU(), "")
	parentPID := fs.String("parent-pid", "", "")
	noDeathSignal := fs.Bool("no-death-signal", false, "")
	noParentWatch := fs.Bool("no-parent-watch", false, "")
	listWorkloads := fs.Bool("list-workloads", false, "")
	listEngines := fs.Bool("list-engines", false, "")
	engine := fs.String("engine", "idiomatic", "")
	ffiLibrary := fs.String("ffi-library", "", "")
	logFormat := fs.String("log-format", "text", "")
	logCalls := fs.Bool("log-calls", false, "")
	traceFile := fs.String("trace-file", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Options{}, errHelp
		}
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unknown argument %q", fs.Arg(0))
	}
	options := Options{Workers: *workers, ParentWatch: !*noParentWatch,
		DeathSignal: !*noDeathSignal, ListWorkloads: *listWorkloads, ListEngines: *listEngines,
		Engine: *engine, FFILibrary: *ffiLibrary, LogFormat: *logFormat, LogCalls: *logCalls,
		TraceFile: *traceFile}
	if options.LogFormat != "text" && options.LogFormat != "json" {
		return Options{}, fmt.Errorf("--log-format %q: expected text or json", options.LogFormat)
	}
	if options.Engine == "" {
		return Options{}, errors.New("--engine needs a name (idiomatic, best, rust-cgo)")
	}
	if options.ListWorkloads || options.ListEngines {
		return options, nil
	}
	if options.Workers < 1 {
		return Options{}, fmt.Errorf("--workers %d: expected a positive integer", *workers)
	}
	if *parentPID != "" {
		pid, err := strconv.Atoi(*parentPID)
		if err != nil || pid < 1 {
			return Options{}, fmt.Errorf("--parent-pid %q: expected a process id", *parentPID)
		}
		options.ParentPID = pid
	}
	if *listen == "" {
		return Options{}, errors.New("--listen is required")
	}
	var err error
	options.Listen, err = ParseListen(*listen, *allowRemote)
	return options, err
}

// ParseListen resolves --listen and applies the loopback rule: only loopback addresses (or a
// Unix socket) unless allowRemote, because the server has no authentication.
func ParseListen(spec string, allowRemote bool) (Listen, error) {
	if path, ok := strings.CutPrefix(spec, "unix:"); ok {
		if path == "" {
			return Listen{}, errors.New("--listen unix: needs a path, e.g. unix:/tmp/hb.sock")
		}
		return Listen{"unix", path}, nil
	}
	host, port, err := net.SplitHostPort(spec)
	if err != nil {
		return Listen{}, fmt.Errorf("--listen %q: not unix:PATH or HOST:PORT (%v)", spec, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return Listen{}, fmt.Errorf("--listen %q: bad port %q", spec, port)
	}
	ips, err := resolve(host)
	if err != nil {
		return Listen{}, fmt.Errorf("--listen %q: not unix:PATH or HOST:PORT (%v)", spec, err)
	}
	if !allowRemote {
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return Listen{}, fmt.Errorf("refusing to listen on %s, which is not a loopback "+
					"address: pass --allow-remote to serve other machines (the server has no "+
					"authentication)", net.JoinHostPort(ip.String(), port))
			}
		}
	}
	return Listen{"tcp", net.JoinHostPort(ips[0].String(), port)}, nil
}

func resolve(host string) ([]net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	addrs, err := net.LookupIP(host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("the name resolves to no address")
	}
	return addrs, err
}
