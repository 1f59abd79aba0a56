package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	goimage "image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"hybridbench/goengine/kernels/internal/jpegtest"
)

func TestFitSize(t *testing.T) {
	for _, c := range []struct{ w, h, W, H int }{
		{640, 480, 256, 192}, {1920, 1080, 256, 144}, {3840, 2880, 256, 192},
		{480, 640, 192, 256}, {300, 300, 256, 256}, {1, 1, 256, 256},
		{100, 3, 256, 8}, {1, 1000, 1, 256}, {1000, 1, 256, 1}, {16384, 2441, 256, 38},
	} {
		if W, H := FitSize(c.w, c.h); W != c.W || H != c.H {
			t.Errorf("FitSize(%d, %d) = %d, %d; want %d, %d", c.w, c.h, W, H, c.W, c.H)
		}
	}
}

func TestPipelineGivesTheSpecSizeAsABaseline420JPEGWithoutMetadata(t *testing.T) {
	for _, c := range []struct {
		w, h int
		grey bool
	}{
		{640, 480, false}, {1920, 1080, false}, {300, 400, true}, {480, 640, false},
		{1, 40, false}, {40, 1, false}, {1, 1, false}, {200, 200, true},
	} {
		t.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(t *testing.T) {
			out, err := Run(jpegtest.Photo(t, c.w, c.h, c.grey))
			if err != nil {
				t.Fatal(err)
			}
			config, err := jpeg.DecodeConfig(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			W, H := FitSize(c.w, c.h)
			if config.Width != W || config.Height != H || config.ColorModel != color.YCbCrModel {
				t.Errorf("output %dx%d %T; want %dx%d YCbCr", config.Width, config.Height,
					config.ColorModel, W, H)
			}
			marker, sampling := jpegtest.SOFSampling(t, out)
			want := [][2]byte{{1, 0x22}, {2, 0x11}, {3, 0x11}} // Y 2x2, Cb and Cr 1x1: 4:2:0
			if marker != 0xC0 || fmt.Sprint(sampling) != fmt.Sprint(want) {
				t.Errorf("SOF %#x sampling %v; want baseline (0xc0) %v", marker, sampling, want)
			}
			// Quantisation tables, frame, Huffman tables, scan: no APPn or COM (metadata).
			if got := jpegtest.HeaderMarkers(out); !bytes.Equal(got, []byte{0xDB, 0xC0, 0xC4, 0xDA}) {
				t.Errorf("header segments % X; want DB C0 C4 DA", got)
			}
		})
	}
}

// The thumbnail is the picture made smaller: away from the vertical edge of the test photo,
// every thumbnail pixel is within a few levels of the source at the same relative place.
func TestThumbnailKeepsThePicture(t *testing.T) {
	const w, h = 1600, 1200
	source := decoded(t, jpegtest.Photo(t, w, h, false))
	out, err := Run(jpegtest.Photo(t, w, h, false))
	if err != nil {
		t.Fatal(err)
	}
	thumb := decoded(t, out)
	W, H := thumb.Bounds().Dx(), thumb.Bounds().Dy()
	for y := 4; y < H-4; y += 7 {
		for x := 4; x < W-4; x += 7 {
			if x > W/2-6 && x < W/2+6 {
				continue // the edge: Lanczos rings there
			}
			sx, sy := (2*x+1)*w/(2*W), (2*y+1)*h/(2*H)
			if d := maxChannelDiff(thumb.At(x, y), source.At(sx, sy)); d > 12 {
				t.Fatalf("thumbnail (%d, %d) differs from source (%d, %d) by %d levels", x, y, sx, sy, d)
			}
		}
	}
}

func decoded(t *testing.T, data []byte) goimage.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func maxChannelDiff(a, b color.Color) int {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := 0
	for _, pair := range [][2]uint32{{ar, br}, {ag, bg}, {ab, bb}} {
		d = max(d, abs(int(pair[0]>>8)-int(pair[1]>>8)))
	}
	return d
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestBadInputIsInvalidAndNamesTheWorkload(t *testing.T) {
	good := jpegtest.Photo(t, 320, 240, false) // large enough that half of it is past the headers
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, goimage.NewRGBA(goimage.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"text", []byte("hello, this is not a picture"),
			"thumbnail: input is not a JPEG (no SOI marker FF D8 FF at the start)"},
		{"empty", nil, "thumbnail: input is not a JPEG"},
		{"png", pngData.Bytes(), "thumbnail: input is not a JPEG"},
		{"truncated", good[:len(good)/2], "thumbnail: corrupt or truncated JPEG"},
		{"header cut", good[:20], "thumbnail: cannot read the JPEG header"},
		{"huge side", jpegtest.WithSize(t, good, 60000, 60000),
			"thumbnail: 60000x60000 exceeds the limits (16384 per side, 40000000 pixels)"},
		{"too many pixels", jpegtest.WithSize(t, good, 8000, 8000),
			"thumbnail: 8000x8000 exceeds the limits"},
		{"cmyk", jpegtest.CMYKHeader(64, 48), "thumbnail: unsupported JPEG colour mode CMYK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Run(c.payload)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %d bytes, error %v; want an error starting %q", len(out), err, c.want)
			}
			var invalid interface{ InvalidInput() bool }
			if !errors.As(err, &invalid) || !invalid.InvalidInput() {
				t.Errorf("%T is not an invalid-input error", err)
			}
		})
	}
}

func BenchmarkRun(b *testing.B) {
	for _, size := range [][2]int{{640, 480}, {1920, 1080}, {3840, 2880}} {
		payload := jpegtest.Photo(b, size[0], size[1], false)
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := Run(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
