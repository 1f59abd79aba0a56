// Package jpegtest makes the JPEG inputs the tests of the JPEG workloads (image, thumbnail)
// share: photo-like pictures, and headers that lie about their size or colour space.
package jpegtest

import (
	"bytes"
	goimage "image"
	"image/color"
	"image/jpeg"
	"testing"
)

// Photo is a smooth test picture with an edge (or a grey ramp), encoded as a JPEG.
func Photo(t testing.TB, w, h int, grey bool) []byte {
	t.Helper()
	var img goimage.Image
	if grey {
		img = greyRamp(w, h)
	} else {
		img = gradientWithEdge(w, h)
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func greyRamp(w, h int) *goimage.Gray {
	g := goimage.NewGray(goimage.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.SetGray(x, y, color.Gray{uint8((x*255/w + y) % 256)})
		}
	}
	return g
}

func gradientWithEdge(w, h int) *goimage.RGBA {
	rgba := goimage.NewRGBA(goimage.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			edge := uint8(0)
			if x > w/2 {
				edge = 200
			}
			rgba.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), edge, 255})
		}
	}
	return rgba
}

// WithSize patches the SOF header of a JPEG to claim another size (a decompression bomb).
func WithSize(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	out := bytes.Clone(data)
	at := sofOffset(out)
	if at < 0 {
		t.Fatal("no SOF marker")
	}
	out[at+5], out[at+6], out[at+7], out[at+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
	return out
}

// SOFSampling returns the (component id, HV sampling byte) pairs of a JPEG's baseline or
// progressive SOF segment, and its marker (0xC0 baseline, 0xC2 progressive).
func SOFSampling(t testing.TB, data []byte) (marker byte, sampling [][2]byte) {
	t.Helper()
	at := sofOffset(data)
	if at < 0 {
		t.Fatal("no SOF marker")
	}
	components := int(data[at+9])
	for i := range components {
		c := at + 10 + 3*i
		sampling = append(sampling, [2]byte{data[c], data[c+1]})
	}
	return data[at+1], sampling
}

// HeaderMarkers lists the markers of a JPEG's segments from after SOI up to and including the
// first SOS (where the entropy-coded data starts).
func HeaderMarkers(data []byte) []byte {
	var markers []byte
	for i := 2; i+3 < len(data); {
		markers = append(markers, data[i+1])
		if data[i+1] == 0xDA {
			break
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return markers
}

// sofOffset walks the marker segments to the first SOF0/SOF2 and returns its offset (-1 if
// there is none before the data ends).
func sofOffset(data []byte) int {
	for i := 2; i+9 < len(data); {
		marker, length := data[i+1], int(data[i+2])<<8|int(data[i+3])
		if marker == 0xC0 || marker == 0xC2 {
			return i
		}
		i += 2 + length
	}
	return -1
}

// CMYKHeader is the start of an Adobe CMYK JPEG (APP14 with transform 0, a 4-component SOF0,
// a scan header): enough for a decoder to know its colour space, which the JPEG workloads
// must refuse before decoding any pixel.
func CMYKHeader(w, h int) []byte {
	return []byte{
		0xFF, 0xD8,
		0xFF, 0xEE, 0x00, 0x0E, 'A', 'd', 'o', 'b', 'e', 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xFF, 0xC0, 0x00, 0x14, 0x08, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 0x04,
		0x01, 0x11, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00, 0x04, 0x11, 0x00,
		0xFF, 0xDA, 0x00, 0x0E, 0x04, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x3F, 0x00,
	}
}
