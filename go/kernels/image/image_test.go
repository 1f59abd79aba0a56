package image

import (
	"bytes"
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
		{640, 480, 800, 600}, {1920, 1080, 800, 450}, {4000, 3000, 800, 600},
		{600, 800, 450, 600}, {1, 10000, 1, 600}, {10000, 1, 800, 1},
	} {
		if W, H := FitSize(c.w, c.h); W != c.W || H != c.H {
			t.Errorf("FitSize(%d, %d) = %d, %d; want %d, %d", c.w, c.h, W, H, c.W, c.H)
		}
	}
}

func TestPipeline(t *testing.T) {
	for _, c := range []struct {
		w, h, W, H int
		grey       bool
	}{{640, 480, 800, 600, false}, {1920, 1080, 800, 450, false}, {300, 400, 450, 600, true}} {
		out, err := Run(jpegtest.Photo(t, c.w, c.h, c.grey))
		if err != nil {
			t.Fatal(err)
		}
		config, err := jpeg.DecodeConfig(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if config.Width != c.W || config.Height != c.H || config.ColorModel != color.YCbCrModel {
			t.Errorf("%dx%d: output %dx%d %T", c.w, c.h, config.Width, config.Height, config.ColorModel)
		}
	}
}

func TestSharpenKeepsTheBorderAndIsExactInside(t *testing.T) {
	src := goimage.NewRGBA(goimage.Rect(0, 0, 3, 3))
	for i := range src.Pix {
		src.Pix[i] = 100
	}
	src.Pix[4*4] = 120 // the centre's red
	dst := sharpen(src)
	if dst.Pix[4*4] != 200 || dst.Pix[4*4+1] != 100 || dst.Pix[0] != 100 {
		t.Errorf("centre %v, border %v", dst.Pix[16:20], dst.Pix[:4])
	}
	src.Pix[4*4] = 0 // 5*0 - 4*100 clamps to 0
	if got := sharpen(src).Pix[16]; got != 0 {
		t.Errorf("clamped to %d", got)
	}
}

func TestBadInput(t *testing.T) {
	good := jpegtest.Photo(t, 64, 48, false)
	var pngData bytes.Buffer
	_ = png.Encode(&pngData, goimage.NewRGBA(goimage.Rect(0, 0, 8, 8)))
	cases := []struct {
		payload []byte
		want    string
	}{
		{[]byte("hello, this is not a picture"), "not a JPEG"},
		{pngData.Bytes(), "not a JPEG"},
		{good[:len(good)/2], "truncated"},
		{good[:20], "JPEG header"},
		{jpegtest.WithSize(t, good, 60000, 60000), "exceeds the limits"},
		{jpegtest.WithSize(t, good, 8000, 8000), "exceeds the limits"},
		{jpegtest.CMYKHeader(64, 48), "image: unsupported JPEG colour mode CMYK"},
	}
	for _, c := range cases {
		if _, err := Run(c.payload); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
