package rustcgo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/kernelerr"
)

// libraryPath is the Rust C-ABI library the ffi backend loads: $HYBRIDBENCH_FFI_LIB, else the
// one pip installed next to backends/ffi (make install builds it before go test runs).
func libraryPath(t testing.TB) string {
	if path := os.Getenv("HYBRIDBENCH_FFI_LIB"); path != "" {
		return path
	}
	found, _ := filepath.Glob("../../../backends/ffi/libhybridbench_ffi*.so")
	if len(found) == 0 {
		t.Skip("the Rust kernel library is not built (make install)")
	}
	return found[0]
}

func open(t testing.TB) []kernels.Kernel {
	table, err := Open(libraryPath(t))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func kernel(t testing.TB, table []kernels.Kernel, name string) kernels.Kernel {
	for _, k := range table {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("the library has no %q", name)
	return kernels.Kernel{}
}

func TestTheLibraryDeclaresTheIdiomaticWorkloads(t *testing.T) {
	table := open(t)
	for _, want := range kernels.Table {
		k := kernel(t, table, want.Name)
		if k.Inline != want.Inline || k.Engine == "" {
			t.Errorf("%s: inline %v engine %q", k.Name, k.Inline, k.Engine)
		}
	}
}

func TestEchoInTheGoBufferAndInALibraryBuffer(t *testing.T) {
	echo := kernel(t, open(t), "echo")
	// 0 and 64 bytes fit the Go buffer; 1 MiB comes back in a library buffer, copied and freed
	for _, size := range []int{0, 64, smallOutput, 1 << 20} {
		in := bytes.Repeat([]byte{0xA5}, size)
		out, err := echo.Run(in)
		if err != nil || !bytes.Equal(out, in) {
			t.Errorf("echo of %d bytes: %d bytes back, %v", size, len(out), err)
		}
	}
}

func TestBadInputIsInvalidWithTheLibrarysMessage(t *testing.T) {
	_, err := kernel(t, open(t), "timeseries").Run([]byte("HBTS"))
	var invalid *kernelerr.Invalid
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "header") {
		t.Errorf("got %T %v", err, err)
	}
}

func TestALibraryThatIsNotOneIsRefused(t *testing.T) {
	if _, err := Open("/nonexistent/libnothing.so"); err == nil ||
		!strings.Contains(err.Error(), "cannot load") {
		t.Errorf("got %v", err)
	}
	libc, _ := filepath.Glob("/lib/x86_64-linux-gnu/libc.so.6")
	if len(libc) == 1 {
		if _, err := Open(libc[0]); err == nil || !strings.Contains(err.Error(), "no symbol") {
			t.Errorf("libc: got %v", err)
		}
	}
}

// BenchmarkCrossing is one Go -> Rust call through cgo at 64 B: echo through hb_run_into,
// the output in the Go buffer (so one crossing, no free), plus the Go side's buffer. Run:
//
//	go test ./kernels/rustcgo -run '^$' -bench Crossing -count 10
func BenchmarkCrossing(b *testing.B) {
	echo := kernel(b, open(b), "echo")
	in := bytes.Repeat([]byte{1}, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := echo.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEchoSizes is the echo through the library at each of hybridbench's echo sizes.
func BenchmarkEchoSizes(b *testing.B) {
	echo := kernel(b, open(b), "echo")
	for _, size := range []int{64, 1 << 10, 64 << 10, 1 << 20} {
		in := bytes.Repeat([]byte{1}, size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := echo.Run(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCgoNoop is the floor: a cgo call of an empty C function.
func BenchmarkCgoNoop(b *testing.B) {
	for b.Loop() {
		noop()
	}
}
