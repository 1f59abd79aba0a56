// Package kernels is the Go engine's one table of workloads: a workload is registered by one
// line in [Table] (and the import of its package).
package kernels

import (
	"hybridbench/goengine/kernels/echo"
	"hybridbench/goengine/kernels/image"
	"hybridbench/goengine/kernels/jsonorders"
	"hybridbench/goengine/kernels/text"
	"hybridbench/goengine/kernels/thumbnail"
	"hybridbench/goengine/kernels/timeseries"
)

// Kernel is one workload: its name (as the Python workload registry spells it) and the
// function computing it, bytes in, bytes out. Run's invalid-input errors implement
// interface{ InvalidInput() bool } (see package kernelerr).
type Kernel struct {
	Name string
	Run  func(payload []byte) ([]byte, error)
	// Inline kernels are too cheap to be worth a worker slot (echo: no work at all); the
	// server runs them on the calling goroutine without taking one of --workers.
	Inline bool
	// Engine says, where a table mixes engines (package best), what computes this workload
	// and how it is reached ("libjpeg-turbo through cgo: Go calling C"); --list-engines
	// prints it and the Python side records it with each result. Empty: the table's own.
	Engine string
}

// Table lists the workloads this engine implements, in the order Describe and
// --list-workloads report them.
var Table = []Kernel{
	{Name: "json", Run: jsonorders.Run},
	{Name: "image", Run: image.Run},
	{Name: "thumbnail", Run: thumbnail.Run},
	{Name: "timeseries", Run: timeseries.Run},
	{Name: "echo", Run: echo.Run, Inline: true},
	{Name: "text", Run: text.Run},
}
