//! `image`: decode a JPEG, resize to fit 800x600 with Lanczos3, sharpen 3x3, encode JPEG q90
//! (see `workloads/image.py` for the specification).
//!
//! * decode: `zune-jpeg` (SIMD paths chosen at run time), strict mode, to 8-bit RGB;
//! * resize: `fast_image_resize` convolution with `FilterType::Lanczos3`, the same separable
//!   fixed-point convolution as Pillow's `Image.LANCZOS` (SSE4.1/AVX2 chosen at run time);
//! * sharpen: exact integer arithmetic, border copied;
//! * encode: libjpeg-turbo through `turbojpeg` (built from the crate's bundled source with
//!   cmake; its SIMD, chosen at run time, needs `nasm` at build time), baseline, quality 90
//!   with IJG scaling, 4:2:0, integer DCT: the encoder Pillow uses. A pure-Rust encoder
//!   (`jpeg-encoder` 0.6) was tried first: its q90 output of the sharpened, grainy test images
//!   lost 1.4 dB more than libjpeg's and fell below the verifier's 20 dB per-block floor.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::{check_payload_size, KernelError, Result};

pub const MAX_SIDE: usize = 16384;
pub const MAX_PIXELS: usize = 40_000_000;
pub const TARGET_W: u32 = 800;
pub const TARGET_H: u32 = 600;
pub const QUALITY: u8 = 90;

/// Target dimensions of step 2, in integers exactly as the specification writes them.
pub fn fit_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (u64::from(width), u64::from(height));
    let (tw, th) = (u64::from(TARGET_W), u64::from(TARGET_H));
    if w * th >= h * tw {
        (TARGET_W, ((h * tw + w / 2) / w).max(1) as u32)
    } else {
        (((w * th + h / 2) / h).max(1) as u32, TARGET_H)
    }
}

/// An RGB image, 3 bytes per pixel, rows top to bottom.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let decoded = decode(input)?;
    let resized = resize(decoded)?;
    let sharpened = sharpen(&resized);
    encode(&sharpened)
}

/// Step 1 with the checks of the specification.
pub fn decode(input: &[u8]) -> Result<Rgb> {
    check_signature("image", input)?;
    let options = DecoderOptions::new_fast()
        .set_strict_mode(true)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(input, options);
    decoder
        .decode_headers()
        .map_err(|e| KernelError::invalid(format!("image: cannot read the JPEG header: {e:?}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| KernelError::invalid("image: cannot read the JPEG header"))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    check_limits("image", width, height)?;
    match decoder.get_input_colorspace() {
        Some(ColorSpace::YCbCr | ColorSpace::RGB | ColorSpace::Luma) => {}
        other => {
            let mode = match other {
                Some(ColorSpace::CMYK) => "CMYK".to_owned(),
                Some(ColorSpace::YCCK) => "YCCK".to_owned(),
                Some(cs) => format!("{cs:?}"),
                None => "unknown".to_owned(),
            };
            return Err(unsupported_colour_mode("image", &mode));
        }
    }
    if width == 0 || height == 0 {
        return Err(KernelError::invalid(
            "image: JPEG has a zero width or height",
        ));
    }
    let mut pixels = decoder
        .decode()
        .map_err(|e| KernelError::invalid(format!("image: corrupt or truncated JPEG: {e:?}")))?;
    check_complete("image", input)?;
    if pixels.len() == width * height {
        // greyscale the decoder did not expand: copy the grey value to R, G and B
        pixels = pixels.iter().flat_map(|&g| [g, g, g]).collect();
    }
    if pixels.len() != width * height * 3 {
        return Err(KernelError::internal(format!(
            "image: decoder returned {} bytes for {width}x{height} RGB",
            pixels.len()
        )));
    }
    Ok(Rgb {
        width: width as u32,
        height: height as u32,
        pixels,
    })
}

// The checks and messages of the specification's input section, shared with `thumbnail` (which
// accepts exactly these JPEGs): `workload` starts each message.

/// The body size limit and the SOI marker.
pub(crate) fn check_signature(workload: &str, input: &[u8]) -> Result<()> {
    check_payload_size(workload, input.len())?;
    if !input.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(KernelError::invalid(format!(
            "{workload}: input is not a JPEG (no SOI marker FF D8 FF at the start)"
        )));
    }
    Ok(())
}

/// The size limits, from the header: decompression bombs are refused before decoding.
pub(crate) fn check_limits(workload: &str, width: usize, height: usize) -> Result<()> {
    if width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS {
        return Err(KernelError::invalid(format!(
            "{workload}: {width}x{height} exceeds the limits ({MAX_SIDE} per side, {MAX_PIXELS} pixels)"
        )));
    }
    Ok(())
}

/// A colour mode other than RGB, YCbCr or greyscale (`mode`: "CMYK", "YCCK", ...).
pub(crate) fn unsupported_colour_mode(workload: &str, mode: &str) -> KernelError {
    KernelError::invalid(format!("{workload}: unsupported JPEG colour mode {mode}"))
}

/// A stream that ends before its EOI marker (see [`has_eoi`]).
pub(crate) fn check_complete(workload: &str, input: &[u8]) -> Result<()> {
    if has_eoi(input) {
        return Ok(());
    }
    Err(KernelError::invalid(format!(
        "{workload}: corrupt or truncated JPEG: the data ends before the EOI marker"
    )))
}

/// Whether the stream is complete: walking its marker segments from SOI, through every scan's
/// entropy-coded data, reaches an EOI marker (`FF D9`). Whatever follows EOI (trailing junk,
/// of any length) is ignored, as libjpeg and so Pillow do. zune-jpeg pads a truncated
/// entropy-coded segment with zeros instead of failing (libjpeg refuses it), so truncation is
/// detected here.
fn has_eoi(input: &[u8]) -> bool {
    if !input.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        // the next marker: skip extraneous bytes (libjpeg warns and skips them) and fill bytes
        match memchr::memchr(0xFF, &input[i.min(input.len())..]) {
            Some(k) => i += k,
            None => return false,
        }
        while input.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = input.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            0xD9 => return true,
            0x00 | 0x01 | 0xD0..=0xD8 => continue, // stuffed byte or standalone marker
            _ => {}
        }
        let Some(len) = input.get(i..i + 2) else {
            return false;
        };
        i += usize::from(u16::from_be_bytes([len[0], len[1]]));
        if marker != 0xDA {
            continue;
        }
        // SOS: entropy-coded data up to the next marker other than a stuffed zero or RSTn
        loop {
            match memchr::memchr(0xFF, &input[i.min(input.len())..]) {
                Some(k) => i += k,
                None => return false,
            }
            match input.get(i + 1) {
                None => return false,
                Some(0x00 | 0xD0..=0xD7) => i += 2,
                Some(0xFF) => i += 1,
                Some(_) => break,
            }
        }
    }
}

/// Step 2: Lanczos3 convolution to the size of [`fit_size`].
pub fn resize(src: Rgb) -> Result<Rgb> {
    let (w, h) = fit_size(src.width, src.height);
    let src_image = Image::from_vec_u8(src.width, src.height, src.pixels, PixelType::U8x3)
        .map_err(|e| KernelError::internal(format!("image: {e}")))?;
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src_image, &mut dst, &options)
        .map_err(|e| KernelError::internal(format!("image: resize failed: {e}")))?;
    Ok(Rgb {
        width: w,
        height: h,
        pixels: dst.into_vec(),
    })
}

/// Step 3: `[[0,-1,0],[-1,5,-1],[0,-1,0]]` per channel, clamped, one-pixel border copied.
pub fn sharpen(src: &Rgb) -> Rgb {
    let (w, h) = (src.width as usize, src.height as usize);
    let p = &src.pixels;
    let mut out = p.clone();
    if w >= 3 && h >= 3 {
        let stride = w * 3;
        for y in 1..h - 1 {
            let up = &p[(y - 1) * stride..y * stride];
            let row = &p[y * stride..(y + 1) * stride];
            let down = &p[(y + 1) * stride..(y + 2) * stride];
            let dst = &mut out[y * stride..(y + 1) * stride];
            for i in 3..stride - 3 {
                let v = 5 * i32::from(row[i])
                    - i32::from(up[i])
                    - i32::from(down[i])
                    - i32::from(row[i - 3])
                    - i32::from(row[i + 3]);
                dst[i] = v.clamp(0, 255) as u8;
            }
        }
    }
    Rgb {
        width: src.width,
        height: src.height,
        pixels: out,
    }
}

/// Step 4: baseline JPEG, quality 90, 4:2:0, no metadata.
pub fn encode(img: &Rgb) -> Result<Vec<u8>> {
    let failed =
        |e: turbojpeg::Error| KernelError::internal(format!("image: JPEG encoding failed: {e}"));
    let mut compressor = turbojpeg::Compressor::new().map_err(failed)?;
    compressor.set_quality(i32::from(QUALITY)).map_err(failed)?;
    compressor
        .set_subsamp(turbojpeg::Subsamp::Sub2x2)
        .map_err(failed)?;
    let image = turbojpeg::Image {
        pixels: &img.pixels[..],
        width: img.width as usize,
        pitch: img.width as usize * 3,
        height: img.height as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    compressor.compress_to_vec(image).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn test_jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                pixels.extend([(x * 255 / width) as u8, (y * 255 / height) as u8, 128]);
            }
        }
        encode(&Rgb {
            width,
            height,
            pixels,
        })
        .unwrap()
    }

    fn err(input: &[u8]) -> String {
        let e = run(input).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
        e.message
    }

    #[test]
    fn fit_size_matches_the_spec() {
        assert_eq!(fit_size(640, 480), (800, 600));
        assert_eq!(fit_size(1920, 1080), (800, 450));
        assert_eq!(fit_size(4000, 3000), (800, 600));
        assert_eq!(fit_size(100, 1000), (60, 600));
        assert_eq!(fit_size(10000, 1), (800, 1));
    }

    #[test]
    fn pipeline_produces_a_jpeg_of_the_target_size() {
        let out = run(&test_jpeg(320, 180)).unwrap();
        let mut d = JpegDecoder::new(&out[..]);
        d.decode_headers().unwrap();
        let info = d.info().unwrap();
        assert_eq!((info.width, info.height), (800, 450));
        assert!(out.starts_with(&[0xFF, 0xD8, 0xFF]) && out.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn sharpen_is_exact_and_copies_the_border() {
        let pixels: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let img = Rgb {
            width: 4,
            height: 3,
            pixels: pixels.clone(),
        };
        let out = sharpen(&img).pixels;
        let at = |x: usize, y: usize, c: usize| i32::from(pixels[(y * 4 + x) * 3 + c]);
        for y in 0..3 {
            for x in 0..4 {
                for c in 0..3 {
                    let want = if x == 0 || y == 0 || x == 3 || y == 2 {
                        at(x, y, c)
                    } else {
                        (5 * at(x, y, c)
                            - at(x - 1, y, c)
                            - at(x + 1, y, c)
                            - at(x, y - 1, c)
                            - at(x, y + 1, c))
                        .clamp(0, 255)
                    };
                    assert_eq!(i32::from(out[(y * 4 + x) * 3 + c]), want);
                }
            }
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(err(b"").contains("not a JPEG"));
        assert!(err(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").contains("not a JPEG"));
        assert!(err(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2]).starts_with("image:"));
        let good = test_jpeg(256, 192);
        assert!(err(&good[..good.len() / 3]).starts_with("image:"));
        let truncated = &good[..good.len() - 200];
        assert!(err(truncated).contains("truncated"), "{}", err(truncated));
        let half = &good[..good.len() / 2];
        assert!(err(half).starts_with("image:"), "{}", err(half));
        assert!(has_eoi(&good) && !has_eoi(&good[..good.len() - 2]));
    }

    #[test]
    fn trailing_junk_after_eoi_is_ignored() {
        let good = test_jpeg(256, 192);
        let mut junk = good.clone();
        junk.extend((0..20_000u32).map(|i| (i * 7 + 3) as u8));
        assert!(has_eoi(&junk));
        assert!(run(&junk).is_ok());
        assert_eq!(run(&junk).unwrap(), run(&good).unwrap());
    }
}
