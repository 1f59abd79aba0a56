// Package engine chooses the kernel table the server runs (--engine):
//
//   - "idiomatic" (the default): package kernels' Table, the standard library and x/image, as
//     a Go team writes them; the grpc-go backend.
//   - "best": package best's Table, the fastest spec-correct Go engine found per workload
//     (a hand-written JSON scanner, libjpeg-turbo through cgo for the JPEG workloads, a tuned
//     timeseries); the grpc-go-best backend.
//   - "rust-cgo": the Rust kernels' C-ABI library (--ffi-library, the one the ffi backend
//     loads) called through cgo; the grpc-go-cgo backend.
//
// A new workload is added to each engine's own table, not here.
package engine

import (
	"fmt"
	"strings"

	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/best"
	"hybridbench/goengine/kernels/rustcgo"
)

// Names are the engines --engine accepts, the default first.
var Names = []string{"idiomatic", "best", "rust-cgo"}

// Table returns the kernels of the named engine; library is --ffi-library (rust-cgo only).
func Table(name, library string) ([]kernels.Kernel, error) {
	if library != "" && name != "rust-cgo" {
		return nil, fmt.Errorf("--ffi-library is only for --engine rust-cgo (the engine is %q)", name)
	}
	switch name {
	case "idiomatic":
		return kernels.Table, nil
	case "best":
		return best.Table, nil
	case "rust-cgo":
		if library == "" {
			return nil, fmt.Errorf("--engine rust-cgo needs --ffi-library PATH (the Rust " +
				"kernels' C-ABI library, e.g. the one the ffi backend loads)")
		}
		return rustcgo.Open(library)
	}
	return nil, fmt.Errorf("--engine %q: expected one of %s", name, strings.Join(Names, ", "))
}
