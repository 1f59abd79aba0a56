// Package thumbnailcgo is the best Go engine of the thumbnail workload (workloads/thumbnail.py
// is the specification): libjpeg-turbo through cgo decodes at the largest DCT-domain reduction
// that keeps the picture at least the target size (1/8, 1/4 or 1/2, which the specification
// allows) and encodes; the Lanczos3 resize is Go (package ljpeg). So Go calling C. Errors and
// their words are the idiomatic engine's (package thumbnail), libjpeg's text in place of
// image/jpeg's.
package thumbnailcgo

import (
	"hybridbench/goengine/kernels/best/ljpeg"
	"hybridbench/goengine/kernels/thumbnail"
)

const (
	workload = "thumbnail"
	quality  = 85
)

// Run processes one JPEG; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	header, err := ljpeg.ReadHeader(workload, payload)
	if err != nil {
		return nil, err
	}
	// the target comes from the full size: the reduced one may round differently
	w, h := thumbnail.FitSize(header.W, header.H)
	src, err := ljpeg.DecodeAtLeast(workload, payload, header, w, h)
	if err != nil {
		return nil, err
	}
	return ljpeg.Encode(workload, ljpeg.Lanczos3(src, w, h), quality)
}
