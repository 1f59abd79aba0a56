// Package thumbnail is the thumbnail workload (workloads/thumbnail.py, whose docstring is the
// specification): decode a JPEG, resize it to fit 256x256 keeping the aspect ratio, encode a
// baseline JPEG at quality 85 with 4:2:0 chroma and no metadata.
//
// Its input checks and their messages are image's, prefixed "thumbnail:" (package jpegio).
// The specification allows a DCT-scaled decode; Go's image/jpeg has none, so this engine
// decodes every pixel and resamples with the reference's filter, Lanczos3, whose support
// x/image/draw widens by the reduction factor as Pillow's LANCZOS does. The encoder always
// writes 4:2:0 for colour images, which is what the specification asks for.
package thumbnail

import (
	goimage "image"

	"golang.org/x/image/draw"

	"hybridbench/goengine/kernels/internal/jpegio"
)

const (
	workload   = "thumbnail"
	targetSide = 256
	quality    = 85
)

// FitSize is the target size of step 2 of the specification: the long side becomes 256, the
// short one keeps the aspect ratio, rounded half up, at least 1; in integers so that every
// language gets the same answer.
func FitSize(w, h int) (int, int) {
	if w >= h {
		return targetSide, max(1, (h*targetSide+w/2)/w)
	}
	return max(1, (w*targetSide+h/2)/h), targetSide
}

// Run processes one JPEG; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	src, err := jpegio.Decode(workload, payload)
	if err != nil {
		return nil, err
	}
	w, h := FitSize(src.Bounds().Dx(), src.Bounds().Dy())
	thumb := goimage.NewRGBA(goimage.Rect(0, 0, w, h))
	jpegio.Lanczos3.Scale(thumb, thumb.Bounds(), jpegio.ToRGBA(src), src.Bounds(), draw.Src, nil)
	return jpegio.Encode(workload, thumb, quality)
}
