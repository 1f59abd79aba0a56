// Package imagecgo is the best Go engine of the image workload (workloads/image.py is the
// specification): libjpeg-turbo through cgo for the decode (every pixel: the rule of this
// workload, checked below) and the encode, so Go calling C; the Lanczos3 resize (fixed point,
// Pillow's algorithm) and the sharpen are Go. Errors and their words are the idiomatic
// engine's (package image), libjpeg's text in place of image/jpeg's.
package imagecgo

import (
	"fmt"

	"hybridbench/goengine/kernels/best/ljpeg"
	"hybridbench/goengine/kernels/image"
)

const (
	workload = "image"
	quality  = 90
)

// Run processes one JPEG; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	header, err := ljpeg.ReadHeader(workload, payload)
	if err != nil {
		return nil, err
	}
	src, err := ljpeg.Decode(workload, payload, header)
	if err != nil {
		return nil, err
	}
	if src.W != header.W || src.H != header.H { // the workload's rule: a full decode
		return nil, fmt.Errorf("%s: decoded %dx%d, not the full %dx%d", workload, src.W, src.H,
			header.W, header.H)
	}
	w, h := image.FitSize(src.W, src.H)
	return ljpeg.Encode(workload, Sharpen(ljpeg.Lanczos3(src, w, h)), quality)
}

// Sharpen applies [[0,-1,0],[-1,5,-1],[0,-1,0]] per channel in integers, clamped to 0..255;
// the one-pixel border is copied unchanged (the idiomatic engine's, on packed RGB).
func Sharpen(src ljpeg.RGB) ljpeg.RGB {
	dst := ljpeg.RGB{W: src.W, H: src.H, Pix: make([]byte, len(src.Pix))}
	copy(dst.Pix, src.Pix)
	stride := src.W * 3
	p := src.Pix
	for y := 1; y < src.H-1; y++ {
		up, row, down := p[(y-1)*stride:y*stride], p[y*stride:(y+1)*stride], p[(y+1)*stride:(y+2)*stride]
		out := dst.Pix[y*stride : (y+1)*stride]
		for i := 3; i < stride-3; i++ {
			v := 5*int(row[i]) - int(row[i-3]) - int(row[i+3]) - int(up[i]) - int(down[i])
			out[i] = uint8(min(max(v, 0), 255))
		}
	}
	return dst
}
