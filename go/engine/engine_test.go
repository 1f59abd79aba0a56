package engine

import (
	"path/filepath"
	"strings"
	"testing"

	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/best"
)

func TestEveryEngineButRustCgoNeedsNothingElse(t *testing.T) {
	for name, want := range map[string][]kernels.Kernel{"idiomatic": kernels.Table, "best": best.Table} {
		table, err := Table(name, "")
		if err != nil || len(table) != len(want) || &table[0] != &want[0] {
			t.Errorf("%s: %d kernels, %v", name, len(table), err)
		}
	}
}

func TestBadEnginesAndLibrariesAreNamed(t *testing.T) {
	for _, c := range []struct{ engine, library, want string }{
		{"fastest", "", `--engine "fastest": expected one of idiomatic, best, rust-cgo`},
		{"best", "/x.so", "--ffi-library is only for --engine rust-cgo"},
		{"rust-cgo", "", "--engine rust-cgo needs --ffi-library"},
		{"rust-cgo", "/nonexistent.so", "cannot load the Rust kernel library"},
	} {
		if _, err := Table(c.engine, c.library); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: got %v, want %q", c.engine, c.library, err, c.want)
		}
	}
}

func TestRustCgoServesTheLibrarysWorkloads(t *testing.T) {
	found, _ := filepath.Glob("../../backends/ffi/libhybridbench_ffi*.so")
	if len(found) == 0 {
		t.Skip("the Rust kernel library is not built (make install)")
	}
	table, err := Table("rust-cgo", found[0])
	if err != nil || len(table) < len(kernels.Table) {
		t.Fatalf("%d kernels, %v", len(table), err)
	}
}
