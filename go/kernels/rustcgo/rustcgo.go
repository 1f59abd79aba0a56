// Package rustcgo is the engine "rust-cgo": Go calling the Rust kernels through cgo, the
// founding articles' "Rust via FFI" seen from a Go service. It dlopens the very C-ABI library
// the Python ffi backend loads (native/sdk/include/hybridbench.h; built from native/kernels)
// and calls hb_run_into for every request: one cgo crossing per call, no copy of the input
// (the library reads the gRPC request's bytes in place) and, for outputs up to smallOutput
// bytes, none of the output either beyond the one into a Go buffer.
//
// The library is opened at run time (dlopen), not linked, so that the server binary builds
// without Rust and the Python side can hand it exactly the library it measures (--ffi-library).
package rustcgo

/*
#cgo CFLAGS: -I${SRCDIR}/../../../native/sdk/include
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include "hybridbench.h"

typedef uint32_t (*hb_abi_version_fn)(void);
typedef const char *(*hb_workloads_fn)(void);
typedef int32_t (*hb_run_into_fn)(uint32_t, const uint8_t *, size_t, char *, size_t, hb_buffer *);
typedef void (*hb_buffer_free_fn)(hb_buffer *);

// C cannot be called through a function pointer from Go: these trampolines do it.
static uint32_t call_abi_version(void *f) { return ((hb_abi_version_fn)f)(); }
static const char *call_workloads(void *f) { return ((hb_workloads_fn)f)(); }
static int32_t call_run_into(void *f, uint32_t id, const uint8_t *in, size_t len, char *dst,
                             size_t cap, hb_buffer *out) {
	return ((hb_run_into_fn)f)(id, in, len, dst, cap, out);
}
static void call_buffer_free(void *f, hb_buffer *buf) { ((hb_buffer_free_fn)f)(buf); }
static const char *last_dl_error(void) { const char *e = dlerror(); return e ? e : "unknown dlopen error"; }
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/kernelerr"
)

// smallOutput is the largest Go buffer hb_run_into writes outputs into (echo up to 16 KB and
// the text results fit): the common small call is then one crossing and no free. The buffer
// is sized to the input plus slack, so that a 64 B echo does not clear 16 KiB each call.
const (
	smallOutput = 16 * 1024
	outputSlack = 256
)

// Library is one dlopened Rust C-ABI library: the functions the hot path calls.
type Library struct {
	Path    string
	runInto unsafe.Pointer
	free    unsafe.Pointer
	Names   []string
}

// Load dlopens the library at path and checks its ABI version against the header's.
func Load(path string) (*Library, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	handle := C.dlopen(cpath, C.RTLD_NOW|C.RTLD_LOCAL)
	if handle == nil {
		return nil, fmt.Errorf("cannot load the Rust kernel library: %s", C.GoString(C.last_dl_error()))
	}
	symbols := map[string]unsafe.Pointer{}
	for _, name := range []string{"hb_abi_version", "hb_workloads", "hb_run_into", "hb_buffer_free"} {
		cname := C.CString(name)
		symbols[name] = C.dlsym(handle, cname)
		C.free(unsafe.Pointer(cname))
		if symbols[name] == nil {
			return nil, fmt.Errorf("%s: no symbol %s: not a hybridbench kernel library", path, name)
		}
	}
	if v := C.call_abi_version(symbols["hb_abi_version"]); v != C.HB_ABI_VERSION {
		return nil, fmt.Errorf("%s: C ABI version %d, this server speaks %d (rebuild one of them)",
			path, v, C.HB_ABI_VERSION)
	}
	names := C.GoString(C.call_workloads(symbols["hb_workloads"]))
	return &Library{Path: path, runInto: symbols["hb_run_into"], free: symbols["hb_buffer_free"],
		Names: strings.Split(names, "\n")}, nil
}

// Open loads the library and returns its workloads as a kernel table, in the library's order.
// A workload that is inline in the idiomatic table (echo) is inline here too.
func Open(path string) ([]kernels.Kernel, error) {
	lib, err := Load(path)
	if err != nil {
		return nil, err
	}
	inline := map[string]bool{}
	for _, k := range kernels.Table {
		inline[k.Name] = k.Inline
	}
	table := make([]kernels.Kernel, len(lib.Names))
	for id, name := range lib.Names {
		table[id] = kernels.Kernel{Name: name, Run: lib.Kernel(uint32(id)), Inline: inline[name],
			Engine: "Go calling Rust: the Rust kernels' C ABI through cgo"}
	}
	return table, nil
}

// Kernel is the kernel of workload id (its position in hb_workloads()).
func (lib *Library) Kernel(id uint32) func([]byte) ([]byte, error) {
	return func(payload []byte) ([]byte, error) { return lib.Run(id, payload) }
}

// Run calls hb_run_into once. The input and the destination are Go memory holding no Go
// pointers, which cgo allows C to read and write for the duration of the call.
func (lib *Library) Run(id uint32, payload []byte) ([]byte, error) {
	var in *C.uint8_t
	if len(payload) > 0 {
		in = (*C.uint8_t)(unsafe.Pointer(&payload[0]))
	}
	dst := make([]byte, min(smallOutput, len(payload)+outputSlack))
	var out C.hb_buffer
	status := C.call_run_into(lib.runInto, C.uint32_t(id), in, C.size_t(len(payload)),
		(*C.char)(unsafe.Pointer(&dst[0])), C.size_t(len(dst)), &out)
	if status == C.HB_OK && out.ptr == nil {
		return dst[:out.len], nil
	}
	// the output, or the error message, is in a library buffer: copy it, then free it
	data := C.GoBytes(unsafe.Pointer(out.ptr), C.int(out.len))
	C.call_buffer_free(lib.free, &out)
	switch status {
	case C.HB_OK:
		return data, nil
	case C.HB_INVALID_INPUT:
		return nil, &kernelerr.Invalid{Message: string(data)}
	}
	return nil, errors.New(string(data))
}
