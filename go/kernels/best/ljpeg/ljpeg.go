// Package ljpeg is libjpeg-turbo (Debian's libjpeg62-turbo, the libjpeg API) through cgo, for
// the best Go engines of the JPEG workloads: Go calling C. It reads the header, decodes to
// packed RGB (greyscale expanded by libjpeg) into a Go buffer, and encodes a baseline JPEG,
// 4:2:0, no metadata. The checks and their messages are the idiomatic engine's (package
// jpegio), each prefixed with the workload's name; libjpeg's own text stands where Go's
// image/jpeg text stood. Every libjpeg warning (a premature end of data, extraneous bytes) is
// refused, as the Rust tuned kernel (TurboJPEG) refuses it.
package ljpeg

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

// libjpeg reports a fatal error through error_exit, which must not return: it jumps back to
// the call that set jb (C only: no Go frame is ever crossed by the jump).
typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
	int failed;
} hb_err;

static void hb_error_exit(j_common_ptr c) {
	hb_err *e = (hb_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jb, 1);
}

// A warning (level -1) is a failure too; trace messages (level >= 0) are ignored.
static void hb_emit_message(j_common_ptr c, int level) {
	hb_err *e = (hb_err *)c->err;
	if (level < 0 && !e->failed) {
		(*c->err->format_message)(c, e->msg);
		e->failed = 1;
	}
}

static void hb_init_err(hb_err *e) {
	jpeg_std_error(&e->pub);
	e->pub.error_exit = hb_error_exit;
	e->pub.emit_message = hb_emit_message;
	e->failed = 0;
	e->msg[0] = 0;
}

// hb_header reads the header: 0 ok, 1 failure (msg says why).
static int hb_header(const unsigned char *buf, size_t len, int *w, int *h, int *space,
                     int *components, char *msg) {
	struct jpeg_decompress_struct d;
	hb_err e;
	hb_init_err(&e);
	d.err = &e.pub;
	if (setjmp(e.jb)) {
		strcpy(msg, e.msg);
		jpeg_destroy_decompress(&d);
		return 1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, buf, (unsigned long)len);
	jpeg_read_header(&d, TRUE);
	*w = d.image_width;
	*h = d.image_height;
	*space = d.jpeg_color_space;
	*components = d.num_components;
	jpeg_destroy_decompress(&d);
	if (e.failed) {
		strcpy(msg, e.msg);
		return 1;
	}
	return 0;
}

// hb_decode decodes to RGB at 1/denom of the size (denom 1, 2, 4 or 8; libjpeg's DCT-domain
// reduction for denom > 1) into rgb, which holds exactly out_w * out_h * 3 bytes: 0 ok, 1
// failure (msg says why).
static int hb_decode(const unsigned char *buf, size_t len, int denom, unsigned char *rgb,
                     int out_w, int out_h, char *msg) {
	struct jpeg_decompress_struct d;
	hb_err e;
	hb_init_err(&e);
	d.err = &e.pub;
	if (setjmp(e.jb)) {
		strcpy(msg, e.msg);
		jpeg_destroy_decompress(&d);
		return 1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, buf, (unsigned long)len);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	d.scale_num = 1;
	d.scale_denom = denom;
	jpeg_start_decompress(&d);
	if ((int)d.output_width != out_w || (int)d.output_height != out_h ||
	    d.output_components != 3) {
		snprintf(msg, JMSG_LENGTH_MAX, "decoded %ux%u, expected %dx%d",
		         d.output_width, d.output_height, out_w, out_h);
		jpeg_destroy_decompress(&d);
		return 1;
	}
	while (d.output_scanline < d.output_height && !e.failed) {
		JSAMPROW row = rgb + (size_t)d.output_scanline * out_w * 3;
		jpeg_read_scanlines(&d, &row, 1);
	}
	if (!e.failed) {
		jpeg_finish_decompress(&d);
	}
	jpeg_destroy_decompress(&d);
	if (e.failed) {
		strcpy(msg, e.msg);
		return 1;
	}
	return 0;
}

// hb_encode writes a baseline JPEG (IJG quality scaling, 4:2:0 from libjpeg's defaults for
// YCbCr, no metadata) into a buffer libjpeg allocates: free it with free().
static int hb_encode(const unsigned char *rgb, int w, int h, int quality, unsigned char **out,
                     unsigned long *out_len, char *msg) {
	struct jpeg_compress_struct c;
	hb_err e;
	hb_init_err(&e);
	c.err = &e.pub;
	*out = NULL;
	*out_len = 0;
	if (setjmp(e.jb)) {
		strcpy(msg, e.msg);
		jpeg_destroy_compress(&c);
		free(*out);
		*out = NULL;
		return 1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, out, out_len);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)rgb + (size_t)c.next_scanline * w * 3;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return 0;
}
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"hybridbench/goengine/kernels/kernelerr"
)

const (
	// MaxSide and MaxPixels are the specification's limits (as package jpegio's).
	MaxSide   = 16384
	MaxPixels = 40_000_000
)

// RGB is a packed 8-bit RGB picture, 3 bytes per pixel, rows of 3*W bytes.
type RGB struct {
	W, H int
	Pix  []byte
}

// Header is what the JPEG's header says.
type Header struct {
	W, H int
}

func message(buf []C.char) string { return C.GoString(&buf[0]) }

func ptr(b []byte) *C.uchar { return (*C.uchar)(unsafe.Pointer(unsafe.SliceData(b))) }

// ReadHeader checks the input as the idiomatic engine does, in its order: the SOI marker, a
// readable header, the size limits (before any pixel is decoded), the colour space.
func ReadHeader(workload string, payload []byte) (Header, error) {
	if !bytes.HasPrefix(payload, []byte{0xFF, 0xD8, 0xFF}) {
		return Header{}, kernelerr.Invalidf(
			"%s: input is not a JPEG (no SOI marker FF D8 FF at the start)", workload)
	}
	var w, h, space, components C.int
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	if C.hb_header(ptr(payload), C.size_t(len(payload)), &w, &h, &space, &components, &msg[0]) != 0 {
		return Header{}, kernelerr.Invalidf("%s: cannot read the JPEG header: %s", workload,
			message(msg))
	}
	if w > MaxSide || h > MaxSide || int(w)*int(h) > MaxPixels {
		return Header{}, kernelerr.Invalidf("%s: %dx%d exceeds the limits (%d per side, %d pixels)",
			workload, w, h, MaxSide, MaxPixels)
	}
	switch {
	case space == C.JCS_CMYK || space == C.JCS_YCCK:
		return Header{}, kernelerr.Invalidf("%s: unsupported JPEG colour mode CMYK (or YCCK)", workload)
	case components != 1 && components != 3:
		return Header{}, kernelerr.Invalidf("%s: unsupported JPEG colour model (%d components)",
			workload, components)
	}
	return Header{int(w), int(h)}, nil
}

// Decode decodes every pixel (the image workload's rule) to RGB.
func Decode(workload string, payload []byte, header Header) (RGB, error) {
	return decode(workload, payload, header, 1)
}

// DecodeAtLeast decodes at the largest DCT-domain reduction (1/8, 1/4, 1/2) that keeps both
// sides at least w x h, as the thumbnail specification allows; at full size if none does.
func DecodeAtLeast(workload string, payload []byte, header Header, w, h int) (RGB, error) {
	for _, denom := range []int{8, 4, 2} {
		if ceilDiv(header.W, denom) >= w && ceilDiv(header.H, denom) >= h {
			return decode(workload, payload, header, denom)
		}
	}
	return decode(workload, payload, header, 1)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func decode(workload string, payload []byte, header Header, denom int) (RGB, error) {
	// libjpeg's reduced size is ceil(side / denom) (jdiv_round_up); hb_decode checks it
	img := RGB{W: ceilDiv(header.W, denom), H: ceilDiv(header.H, denom)}
	img.Pix = make([]byte, img.W*img.H*3)
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	if C.hb_decode(ptr(payload), C.size_t(len(payload)), C.int(denom), ptr(img.Pix),
		C.int(img.W), C.int(img.H), &msg[0]) != 0 {
		return RGB{}, kernelerr.Invalidf("%s: corrupt or truncated JPEG: %s", workload, message(msg))
	}
	return img, nil
}

// Encode writes a baseline JPEG at quality, 4:2:0, no metadata.
func Encode(workload string, img RGB, quality int) ([]byte, error) {
	if img.W == 0 || img.H == 0 || len(img.Pix) != img.W*img.H*3 {
		return nil, errors.New(workload + ": JPEG encoding failed: empty or malformed picture")
	}
	var out *C.uchar
	var outLen C.ulong
	msg := make([]C.char, C.JMSG_LENGTH_MAX)
	if C.hb_encode(ptr(img.Pix), C.int(img.W), C.int(img.H), C.int(quality), &out, &outLen,
		&msg[0]) != 0 {
		return nil, fmt.Errorf("%s: JPEG encoding failed: %s", workload, message(msg))
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(outLen)), nil
}
