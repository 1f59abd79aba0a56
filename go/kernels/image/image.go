// Package image is the image workload (workloads/image.py, whose docstring is the
// specification): decode a JPEG, resize it to fit 800x600 with Lanczos3, sharpen 3x3, encode
// a JPEG at quality 90.
//
// Decoding and encoding are the standard library's image/jpeg (baseline and progressive; its
// encoder uses the IJG-scaled standard tables and 4:2:0 chroma). The resampling is
// golang.org/x/image/draw's separable kernel scaler given the Lanczos3 kernel: like Pillow's
// LANCZOS it widens the kernel's support by the reduction factor when shrinking, and it reads
// the decoder's YCbCr planes directly.
package image

import (
	"bytes"
	"errors"
	"fmt"
	goimage "image"
	"image/color"
	"image/jpeg"
	"io"
	"math"

	"golang.org/x/image/draw"

	"hybridbench/goengine/kernels/kernelerr"
)

const (
	maxSide        = 16384
	maxPixels      = 40_000_000
	targetW        = 800
	targetH        = 600
	quality        = 90
	lanczosSupport = 3
)

// lanczos3 is the Lanczos kernel with a = 3: sinc(t) * sinc(t / 3) on [0, 3).
var lanczos3 = &draw.Kernel{Support: lanczosSupport, At: func(t float64) float64 {
	return sinc(t) * sinc(t/lanczosSupport)
}}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

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
	src, err := decode(payload)
	if err != nil {
		return nil, err
	}
	w, h := FitSize(src.Bounds().Dx(), src.Bounds().Dy())
	resized := goimage.NewRGBA(goimage.Rect(0, 0, w, h))
	lanczos3.Scale(resized, resized.Bounds(), toRGBA(src), src.Bounds(), draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, sharpen(resized), &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("image: JPEG encoding failed: %w", err)
	}
	return out.Bytes(), nil
}

// decode checks the header against the specification's limits before decoding any pixel.
func decode(payload []byte) (goimage.Image, error) {
	if !bytes.HasPrefix(payload, []byte{0xFF, 0xD8, 0xFF}) {
		return nil, kernelerr.Invalidf(
			"image: input is not a JPEG (no SOI marker FF D8 FF at the start)")
	}
	config, err := jpeg.DecodeConfig(bytes.NewReader(payload))
	if err != nil {
		return nil, kernelerr.Invalidf("image: cannot read the JPEG header: %s", describe(err))
	}
	if config.Width > maxSide || config.Height > maxSide || config.Width*config.Height > maxPixels {
		return nil, kernelerr.Invalidf("image: %dx%d exceeds the limits (%d per side, %d pixels)",
			config.Width, config.Height, maxSide, maxPixels)
	}
	switch config.ColorModel {
	case color.YCbCrModel, color.GrayModel:
	case color.CMYKModel:
		return nil, kernelerr.Invalidf("image: unsupported JPEG colour mode CMYK (or YCCK)")
	default:
		return nil, kernelerr.Invalidf("image: unsupported JPEG colour model %T", config.ColorModel)
	}
	img, err := jpeg.Decode(bytes.NewReader(payload))
	if err != nil {
		return nil, kernelerr.Invalidf("image: corrupt or truncated JPEG: %s", describe(err))
	}
	return img, nil
}

func describe(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the data ends early (truncated)"
	}
	return err.Error()
}

// toRGBA converts the decoded image once (draw's YCbCr-to-RGBA fast path). The scaler reads
// every source pixel many times when shrinking (each output column's kernel spans ~30 source
// columns at 3840 -> 800); converting per read made its YCbCr path three times slower.
func toRGBA(src goimage.Image) *goimage.RGBA {
	if rgba, ok := src.(*goimage.RGBA); ok {
		return rgba
	}
	rgba := goimage.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Bounds(), src, src.Bounds().Min, draw.Src)
	return rgba
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
