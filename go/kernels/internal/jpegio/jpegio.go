// Package jpegio is what the JPEG workloads (image, thumbnail) share: the input checks and
// limits of workloads/image.py's specification, the full decode, the Lanczos3 kernel and the
// encode. Every error message starts with the workload's name ("image: ...",
// "thumbnail: ..."), as the other engines of each workload spell it.
//
// Decoding and encoding are the standard library's image/jpeg (baseline and progressive; its
// encoder uses the IJG-scaled standard tables and always writes 4:2:0 chroma for colour
// images). The resampling kernel is for golang.org/x/image/draw's separable scaler, which,
// like Pillow's LANCZOS, widens the kernel's support by the reduction factor when shrinking.
package jpegio

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
	// MaxSide is the largest width or height accepted.
	MaxSide = 16384
	// MaxPixels is the largest width x height accepted (decompression bombs are refused
	// from the header, before any pixel is decoded).
	MaxPixels      = 40_000_000
	lanczosSupport = 3
)

// Lanczos3 is the Lanczos kernel with a = 3: sinc(t) * sinc(t / 3) on [0, 3).
var Lanczos3 = &draw.Kernel{Support: lanczosSupport, At: func(t float64) float64 {
	return sinc(t) * sinc(t/lanczosSupport)
}}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// Decode checks the header against the specification's limits before decoding any pixel,
// then decodes the whole picture at full resolution. Bad input is a [kernelerr.Invalid]
// whose message starts with "workload: ".
func Decode(workload string, payload []byte) (goimage.Image, error) {
	if !bytes.HasPrefix(payload, []byte{0xFF, 0xD8, 0xFF}) {
		return nil, kernelerr.Invalidf(
			"%s: input is not a JPEG (no SOI marker FF D8 FF at the start)", workload)
	}
	config, err := jpeg.DecodeConfig(bytes.NewReader(payload))
	if err != nil {
		return nil, kernelerr.Invalidf("%s: cannot read the JPEG header: %s", workload, describe(err))
	}
	if err := checkConfig(workload, config); err != nil {
		return nil, err
	}
	img, err := jpeg.Decode(bytes.NewReader(payload))
	if err != nil {
		return nil, kernelerr.Invalidf("%s: corrupt or truncated JPEG: %s", workload, describe(err))
	}
	return img, nil
}

func checkConfig(workload string, config goimage.Config) error {
	if config.Width > MaxSide || config.Height > MaxSide || config.Width*config.Height > MaxPixels {
		return kernelerr.Invalidf("%s: %dx%d exceeds the limits (%d per side, %d pixels)",
			workload, config.Width, config.Height, MaxSide, MaxPixels)
	}
	switch config.ColorModel {
	case color.YCbCrModel, color.GrayModel:
		return nil
	case color.CMYKModel:
		return kernelerr.Invalidf("%s: unsupported JPEG colour mode CMYK (or YCCK)", workload)
	default:
		return kernelerr.Invalidf("%s: unsupported JPEG colour model %T", workload, config.ColorModel)
	}
}

func describe(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the data ends early (truncated)"
	}
	return err.Error()
}

// ToRGBA converts the decoded image once (draw's YCbCr-to-RGBA fast path). The scaler reads
// every source pixel many times when shrinking (each output column's kernel spans ~30 source
// columns at 3840 -> 800); converting per read made its YCbCr path three times slower.
func ToRGBA(src goimage.Image) *goimage.RGBA {
	if rgba, ok := src.(*goimage.RGBA); ok {
		return rgba
	}
	rgba := goimage.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Bounds(), src, src.Bounds().Min, draw.Src)
	return rgba
}

// Encode writes a baseline JPEG at the given quality (4:2:0 for colour images, no metadata).
func Encode(workload string, img goimage.Image, quality int) ([]byte, error) {
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("%s: JPEG encoding failed: %w", workload, err)
	}
	return out.Bytes(), nil
}
