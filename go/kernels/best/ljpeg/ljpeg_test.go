package ljpeg

import (
	"testing"

	"hybridbench/goengine/kernels/internal/jpegtest"
)

func TestDecodeAtLeastTakesTheLargestReductionThatKeepsTheTarget(t *testing.T) {
	payload := jpegtest.Photo(t, 640, 480, false)
	header, err := ReadHeader("thumbnail", payload)
	if err != nil || header != (Header{640, 480}) {
		t.Fatalf("%+v %v", header, err)
	}
	for _, c := range []struct{ w, h, wantW, wantH int }{
		{80, 60, 80, 60}, {81, 60, 160, 120}, {256, 192, 320, 240}, {400, 300, 640, 480},
	} {
		img, err := DecodeAtLeast("thumbnail", payload, header, c.w, c.h)
		if err != nil || img.W != c.wantW || img.H != c.wantH || len(img.Pix) != img.W*img.H*3 {
			t.Errorf("at least %dx%d: %dx%d, %v; want %dx%d", c.w, c.h, img.W, img.H, err,
				c.wantW, c.wantH)
		}
	}
	full, err := Decode("image", payload, header)
	if err != nil || full.W != 640 || full.H != 480 {
		t.Errorf("full decode: %dx%d %v", full.W, full.H, err)
	}
}

func TestGreyIsExpandedAndTheRoundTripKeepsThePicture(t *testing.T) {
	payload := jpegtest.Photo(t, 64, 48, true)
	header, _ := ReadHeader("image", payload)
	img, err := Decode("image", payload, header)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(img.Pix); i += 3 {
		if img.Pix[i] != img.Pix[i+1] || img.Pix[i] != img.Pix[i+2] {
			t.Fatalf("pixel %d is not grey: % x", i/3, img.Pix[i:i+3])
		}
	}
	out, err := Encode("image", Lanczos3(img, 32, 24), 90)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadHeader("image", out)
	if err != nil || back != (Header{32, 24}) {
		t.Errorf("re-read %+v %v", back, err)
	}
}

func TestLanczosKeepsAFlatPictureFlat(t *testing.T) {
	src := RGB{W: 97, H: 61, Pix: make([]byte, 97*61*3)}
	for i := range src.Pix {
		src.Pix[i] = byte(40 + i%3*70)
	}
	for _, size := range [][2]int{{13, 9}, {97, 30}, {200, 122}} {
		dst := Lanczos3(src, size[0], size[1])
		for i, v := range dst.Pix {
			if want := byte(40 + i%3*70); v != want {
				t.Fatalf("%v: sample %d is %d, want %d", size, i, v, want)
			}
		}
	}
}
