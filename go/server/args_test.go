package server

import (
	"strings"
	"testing"
)

func TestLoopbackAndUnixAreAccepted(t *testing.T) {
	for _, c := range []struct {
		args    []string
		network string
		address string
	}{
		{[]string{"--listen", "127.0.0.1:0"}, "tcp", "127.0.0.1:0"},
		{[]string{"--listen=[::1]:5000"}, "tcp", "[::1]:5000"},
		{[]string{"--listen", "unix:/tmp/x.sock", "--workers", "3"}, "unix", "/tmp/x.sock"},
	} {
		o, err := ParseArgs(c.args)
		if err != nil || o.Listen.Network != c.network || o.Listen.Address != c.address {
			t.Errorf("%v: %+v %v", c.args, o, err)
		}
	}
	o, err := ParseArgs([]string{"--listen", "unix:/x", "--parent-pid", "7", "--no-death-signal"})
	if err != nil || o.ParentPID != 7 || o.DeathSignal || !o.ParentWatch {
		t.Errorf("%+v %v", o, err)
	}
	o, _ = ParseArgs([]string{"--listen", "unix:/x", "--no-parent-watch", "--workers=2"})
	if o.ParentWatch || o.Workers != 2 {
		t.Errorf("%+v", o)
	}
	if _, err := ParseArgs([]string{"--listen", "localhost:0"}); err != nil {
		t.Error(err)
	}
}

func TestRemoteNeedsAllowRemote(t *testing.T) {
	_, err := ParseArgs([]string{"--listen", "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Errorf("got %v", err)
	}
	o, err := ParseArgs([]string{"--listen", "0.0.0.0:0", "--allow-remote"})
	if err != nil || o.Listen.Address != "0.0.0.0:0" {
		t.Errorf("%+v %v", o, err)
	}
}

func TestListWorkloadsAndHelpNeedNoListen(t *testing.T) {
	if o, err := ParseArgs([]string{"--list-workloads"}); err != nil || !o.ListWorkloads {
		t.Errorf("%+v %v", o, err)
	}
	if _, err := ParseArgs([]string{"--help"}); err != errHelp {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(usage("srv"), "srv --list-workloads") {
		t.Error(usage("srv"))
	}
}

func TestBadArgumentsAreReported(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--listen is required"},
		{[]string{"--listen", "unix:"}, "needs a path"},
		{[]string{"--listen", "nonsense"}, "not unix:PATH or HOST:PORT"},
		{[]string{"--listen", "127.0.0.1:0", "--workers", "0"}, "positive"},
		{[]string{"--listen", "unix:/x", "--parent-pid", "-3"}, "process id"},
		{[]string{"--listen"}, "needs an argument"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"--listen", "unix:/x", "extra"}, "extra"},
	} {
		if _, err := ParseArgs(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
}

func TestEngineAndLibrary(t *testing.T) {
	o, err := ParseArgs([]string{"--listen", "unix:/x"})
	if err != nil || o.Engine != "idiomatic" || o.FFILibrary != "" {
		t.Errorf("default: %+v %v", o, err)
	}
	o, err = ParseArgs([]string{"--listen", "unix:/x", "--engine", "rust-cgo", "--ffi-library=/l.so"})
	if err != nil || o.Engine != "rust-cgo" || o.FFILibrary != "/l.so" {
		t.Errorf("rust-cgo: %+v %v", o, err)
	}
	o, err = ParseArgs([]string{"--list-engines", "--engine=best"})
	if err != nil || !o.ListEngines || o.Engine != "best" {
		t.Errorf("--list-engines: %+v %v", o, err)
	}
	if _, err := ParseArgs([]string{"--listen", "unix:/x", "--engine="}); err == nil ||
		!strings.Contains(err.Error(), "--engine needs a name") {
		t.Errorf("empty engine: %v", err)
	}
	if _, err := ParseArgs([]string{"--listen", "unix:/x", "--engine"}); err == nil {
		t.Error("--engine without a value was accepted")
	}
}
