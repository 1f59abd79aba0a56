// Package image is the image workload (workloads/image.py, whose docstring is the
// specification): decode a JPEG, resize it to fit 800x600 with Lanczos3, sharpen 3x3, encode
// a JPEG at quality 90.
//
// The input checks, the decode, the Lanczos3 kernel and the encode are package jpegio's,
// shared with the thumbnail workload (see there for the libraries).
package image

import (
	goimage "image"

	"golang.org/x/image/draw"

	"hybridbench/goengine/kernels/internal/jpegio"
)

const (
	workload = "image"
	targetW  = 800
	targetH  = 600
	quality  = 90
)

// FitSize is the target size of step 2 of the specification, in integers so that every
// language gets the same answer.
func FitSize(w, h int) (int, int) {
	if w*targetH >= h*targetW {
		return targetW, max(1, (h*targetW+w/2)/w)
	}
	return max(1, (w*targetH+h/2)/h), targetH
}

// Run processes one JPEG; see the package documentation.
func Run(payload []byte) ([]byte, error) {
	src, err := jpegio.Decode(workload, payload)
	if err != nil {
		return nil, err
	}
	w, h := FitSize(src.Bounds().Dx(), src.Bounds().Dy())
	resized := goimage.NewRGBA(goimage.Rect(0, 0, w, h))
	jpegio.Lanczos3.Scale(resized, resized.Bounds(), jpegio.ToRGBA(src), src.Bounds(), draw.Src, nil)
	return jpegio.Encode(workload, sharpen(resized), quality)
}

// sharpen applies [[0,-1,0],[-1,5,-1],[0,-1,0]] per channel in integers, clamped to 0..255;
// the one-pixel border is copied unchanged (as Pillow's ImageFilter.Kernel does).
func sharpen(src *goimage.RGBA) *goimage.RGBA {
	dst := goimage.NewRGBA(src.Rect)
	copy(dst.Pix, src.Pix)
	w, h, stride := src.Rect.Dx(), src.Rect.Dy(), src.Stride
	p := src.Pix
	for y := 1; y < h-1; y++ {
		row := y * stride
		for x := 1; x < w-1; x++ {
			at := row + 4*x
			for c := range 3 {
				i := at + c
				v := 5*int(p[i]) - int(p[i-4]) - int(p[i+4]) - int(p[i-stride]) - int(p[i+stride])
				dst.Pix[i] = uint8(min(max(v, 0), 255))
			}
		}
	}
	return dst
}
