package image

import (
	"bytes"
	goimage "image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// photo is a smooth test picture with an edge, encoded as a JPEG.
func photo(t *testing.T, w, h int, grey bool) []byte {
	t.Helper()
	var img goimage.Image
	if grey {
		g := goimage.NewGray(goimage.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.SetGray(x, y, color.Gray{uint8((x*255/w + y) % 256)})
			}
		}
		img = g
	} else {
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
		img = rgba
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

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
		out, err := Run(photo(t, c.w, c.h, c.grey))
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

// withSize patches the SOF header of a JPEG to claim another size (a decompression bomb).
func withSize(t *testing.T, data []byte, w, h int) []byte {
	t.Helper()
	out := bytes.Clone(data)
	for i := 2; i+9 < len(out); {
		marker, length := out[i+1], int(out[i+2])<<8|int(out[i+3])
		if marker == 0xC0 || marker == 0xC2 {
			out[i+5], out[i+6], out[i+7], out[i+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
			return out
		}
		i += 2 + length
	}
	t.Fatal("no SOF marker")
	return nil
}

func TestBadInput(t *testing.T) {
	good := photo(t, 64, 48, false)
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
		{withSize(t, good, 60000, 60000), "exceeds the limits"},
		{withSize(t, good, 8000, 8000), "exceeds the limits"},
	}
	for _, c := range cases {
		if _, err := Run(c.payload); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
