// Package best is the engine "best" (grpc-go-best): per workload, the fastest spec-correct Go
// engine found, verified against the same reference and with the same error words as the
// idiomatic engine (package kernels' Table, which stays as a Go team writes it):
//
//   - json: a hand-written single-pass scanner and transformer (package best/jsonscan);
//     every JSON library tried was slower on this workload (go/README.md, "Go at its best").
//   - image, thumbnail: libjpeg-turbo through cgo (packages best/imagecgo, best/thumbnailcgo
//     over best/ljpeg), the resize in Go: that is Go calling C, and the profile and the
//     report say so.
//   - timeseries: the idiomatic algorithm without allocation in the hot loop (best/tsfast).
//   - text, echo: the idiomatic engines, unchanged: text is already a single pass over the
//     bytes with precomputed tables (no faster Go engine was found) and echo does no work.
package best

import (
	"hybridbench/goengine/kernels"
	"hybridbench/goengine/kernels/best/imagecgo"
	"hybridbench/goengine/kernels/best/jsonscan"
	"hybridbench/goengine/kernels/best/thumbnailcgo"
	"hybridbench/goengine/kernels/best/tsfast"
	"hybridbench/goengine/kernels/echo"
	"hybridbench/goengine/kernels/text"
)

// Table lists the best engine's workloads, in the idiomatic table's order.
var Table = []kernels.Kernel{
	{Name: "json", Run: jsonscan.Run, Engine: "hand-written single-pass scanner (Go)"},
	{Name: "image", Run: imagecgo.Run, Engine: cgoJPEG},
	{Name: "thumbnail", Run: thumbnailcgo.Run, Engine: cgoJPEG},
	{Name: "timeseries", Run: tsfast.Run, Engine: "tuned Go: dense ids, no allocation per point"},
	{Name: "echo", Run: echo.Run, Inline: true, Engine: "the idiomatic engine (Go)"},
	{Name: "text", Run: text.Run, Engine: "the idiomatic engine (Go): nothing faster found"},
}

// cgoJPEG is the engine of the JPEG workloads: the report labels it as Go calling C.
const cgoJPEG = "Go calling C: libjpeg-turbo through cgo, Lanczos3 in Go"
