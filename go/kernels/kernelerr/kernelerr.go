// Package kernelerr is how the Go kernels say that their input is bad.
//
// A kernel is a plain func(payload []byte) ([]byte, error). An error that implements
// interface{ InvalidInput() bool } (returning true) is the caller's fault: the server answers
// it with INVALID_ARGUMENT and the error's message, as the Rust and Python engines do. Any
// other error is the kernel's own failure (INTERNAL). Kernels may define their own error
// types; this package is the shared one.
package kernelerr

import "fmt"

// MaxPayloadBytes is the largest request body any workload accepts (64 MiB), as
// hybridbench.limits.MAX_PAYLOAD_BYTES in Python and MAX_PAYLOAD_BYTES in the Rust SDK.
const MaxPayloadBytes = 64 * 1024 * 1024

// Invalid is bad input, with a message that names the problem.
type Invalid struct{ Message string }

func (e *Invalid) Error() string { return e.Message }

// InvalidInput marks the error as the caller's fault.
func (e *Invalid) InvalidInput() bool { return true }

// Invalidf returns an [*Invalid] with a formatted message.
func Invalidf(format string, args ...any) error {
	return &Invalid{Message: fmt.Sprintf(format, args...)}
}

// CheckPayloadSize rejects a body above [MaxPayloadBytes] with the same message as the Python
// harness and the Rust SDK.
func CheckPayloadSize(workload string, size int) error {
	if size > MaxPayloadBytes {
		return Invalidf("%s: payload of %d bytes exceeds the limit of %d bytes (64 MiB)",
			workload, size, MaxPayloadBytes)
	}
	return nil
}
