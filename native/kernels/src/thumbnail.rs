//! `thumbnail`: decode a JPEG at a reduced scale, fit it into 256x256 with Lanczos3, encode a
//! JPEG q85 (see `workloads/thumbnail.py` for the specification).
//!
//! * input checks: `image`'s (the same JPEGs are accepted, the same messages under
//!   `thumbnail:`), the header read by libjpeg-turbo;
//! * decode: libjpeg-turbo through `turbojpeg` with the largest DCT-domain reduction (scaling
//!   factor M/8) whose output is still at least the target size in both dimensions, as the
//!   specification allows: a 3840x2880 input is decoded at 1/8, as 480x360;
//! * resize: `fast_image_resize` convolution with `FilterType::Lanczos3` to exactly W x H;
//! * encode: libjpeg-turbo, baseline, quality 85 with IJG scaling, 4:2:0, no metadata.
//!
//! libjpeg-turbo reports a corrupt stream as a warning and decodes on; TurboJPEG turns any
//! warning into a failed call, so such a stream is refused as corrupt (Pillow refuses the
//! truncated ones and decodes through the rest).

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use turbojpeg::{Colorspace, DecompressHeader, Decompressor, PixelFormat, ScalingFactor};

use crate::image::{check_complete, check_limits, check_signature, unsupported_colour_mode, Rgb};
use crate::{KernelError, Result};

const NAME: &str = "thumbnail";
pub const TARGET: u32 = 256;
pub const QUALITY: i32 = 85;

/// Target dimensions of step 2, in integers exactly as the specification writes them.
pub fn fit_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h, t) = (u64::from(width), u64::from(height), u64::from(TARGET));
    if w >= h {
        (TARGET, ((h * t + w / 2) / w).max(1) as u32)
    } else {
        (((w * t + h / 2) / h).max(1) as u32, TARGET)
    }
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let (target_w, target_h, decoded) = decode(input)?;
    encode(&resize(decoded, target_w, target_h)?)
}

fn internal(e: turbojpeg::Error) -> KernelError {
    KernelError::internal(format!("{NAME}: {e}"))
}

/// Step 1 with `image`'s checks: returns the target size and the image decoded at the
/// reduced scale chosen for it.
pub fn decode(input: &[u8]) -> Result<(u32, u32, Rgb)> {
    check_signature(NAME, input)?;
    let mut decompressor = Decompressor::new().map_err(internal)?;
    let header = decompressor
        .read_header(input)
        .map_err(|e| KernelError::invalid(format!("{NAME}: cannot read the JPEG header: {e}")))?;
    check_limits(NAME, header.width, header.height)?;
    match header.colorspace {
        Colorspace::YCbCr | Colorspace::RGB | Colorspace::Gray => {}
        other => return Err(unsupported_colour_mode(NAME, &format!("{other:?}"))),
    }
    check_complete(NAME, input)?;
    // the limits above keep both sides within 16384: they fit a u32
    let (target_w, target_h) = fit_size(header.width as u32, header.height as u32);
    let factor = reduction(&header, target_w as usize, target_h as usize);
    decompressor.set_scaling_factor(factor).map_err(internal)?;
    let scaled = header.scaled(factor);
    let mut pixels = vec![0u8; scaled.width * scaled.height * 3];
    let output = turbojpeg::Image {
        pixels: &mut pixels[..],
        width: scaled.width,
        pitch: scaled.width * 3,
        height: scaled.height,
        format: PixelFormat::RGB, // greyscale is expanded to RGB by libjpeg-turbo
    };
    decompressor
        .decompress(input, output)
        .map_err(|e| KernelError::invalid(format!("{NAME}: corrupt or truncated JPEG: {e}")))?;
    let rgb = Rgb {
        width: scaled.width as u32,
        height: scaled.height as u32,
        pixels,
    };
    Ok((target_w, target_h, rgb))
}

/// The smallest scaling factor of at most 1 that libjpeg-turbo supports (M/8) whose output is
/// still at least `target_w` x `target_h`; 1 for lossless JPEGs, which cannot be scaled.
fn reduction(header: &DecompressHeader, target_w: usize, target_h: usize) -> ScalingFactor {
    if header.is_lossless {
        return ScalingFactor::ONE;
    }
    let large_enough = |f: &ScalingFactor| {
        let scaled = header.scaled(*f);
        f.num() <= f.denom() && scaled.width >= target_w && scaled.height >= target_h
    };
    Decompressor::supported_scaling_factors()
        .into_iter()
        .filter(large_enough)
        .min_by(|a, b| (a.num() * b.denom()).cmp(&(b.num() * a.denom())))
        .unwrap_or(ScalingFactor::ONE)
}

/// Step 2: Lanczos3 convolution to exactly `w` x `h`.
pub fn resize(src: Rgb, w: u32, h: u32) -> Result<Rgb> {
    let src_image = Image::from_vec_u8(src.width, src.height, src.pixels, PixelType::U8x3)
        .map_err(|e| KernelError::internal(format!("{NAME}: {e}")))?;
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src_image, &mut dst, &options)
        .map_err(|e| KernelError::internal(format!("{NAME}: resize failed: {e}")))?;
    Ok(Rgb {
        width: w,
        height: h,
        pixels: dst.into_vec(),
    })
}

/// Step 4: baseline JPEG, quality 85, 4:2:0, no metadata.
pub fn encode(img: &Rgb) -> Result<Vec<u8>> {
    let failed =
        |e: turbojpeg::Error| KernelError::internal(format!("{NAME}: JPEG encoding failed: {e}"));
    let mut compressor = turbojpeg::Compressor::new().map_err(failed)?;
    compressor.set_quality(QUALITY).map_err(failed)?;
    compressor
        .set_subsamp(turbojpeg::Subsamp::Sub2x2)
        .map_err(failed)?;
    let image = turbojpeg::Image {
        pixels: &img.pixels[..],
        width: img.width as usize,
        pitch: img.width as usize * 3,
        height: img.height as usize,
        format: PixelFormat::RGB,
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
        crate::image::encode(&Rgb {
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
        assert_eq!(fit_size(640, 480), (256, 192));
        assert_eq!(fit_size(1920, 1080), (256, 144));
        assert_eq!(fit_size(3840, 2880), (256, 192));
        assert_eq!(fit_size(600, 800), (192, 256));
        assert_eq!(fit_size(10000, 3), (256, 1));
        assert_eq!(fit_size(1, 1), (256, 256));
    }

    #[test]
    fn decodes_at_the_largest_reduction_that_keeps_the_target_size() {
        for (w, h, scaled) in [
            (3840, 2880, (480, 360)), // 1/8
            (1920, 1080, (480, 270)), // 1/4: 1/8 would be 240 wide
            (640, 480, (320, 240)),   // 1/2: 3/8 would be 240 wide
            (200, 100, (200, 100)),   // smaller than the target: full size, then upscaled
        ] {
            let (tw, th, rgb) = decode(&test_jpeg(w, h)).unwrap();
            assert_eq!((tw, th), fit_size(w, h));
            assert_eq!((rgb.width, rgb.height), scaled, "{w}x{h}");
            // never below the target, unless the image itself is smaller (then upscaled)
            assert!(rgb.width >= tw.min(w) && rgb.height >= th.min(h));
        }
    }

    #[test]
    fn pipeline_produces_a_jpeg_of_the_target_size() {
        let out = run(&test_jpeg(1000, 600)).unwrap();
        let header = turbojpeg::read_header(&out).unwrap();
        assert_eq!((header.width, header.height), (256, 154));
        assert_eq!(header.subsamp, turbojpeg::Subsamp::Sub2x2);
        assert!(out.starts_with(&[0xFF, 0xD8, 0xFF]) && out.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn rejects_bad_input_with_the_messages_of_image() {
        assert_eq!(
            err(b""),
            "thumbnail: input is not a JPEG (no SOI marker FF D8 FF at the start)"
        );
        assert!(err(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").contains("not a JPEG"));
        assert!(err(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2])
            .starts_with("thumbnail: cannot read the JPEG header"));
        let good = test_jpeg(256, 192);
        let truncated = &good[..good.len() - 200];
        assert!(err(truncated).contains("truncated"), "{}", err(truncated));
        let half = &good[..good.len() / 2];
        assert!(err(half).starts_with("thumbnail:"), "{}", err(half));
    }

    #[test]
    fn trailing_junk_after_eoi_is_ignored() {
        let good = test_jpeg(300, 200);
        let mut junk = good.clone();
        junk.extend((0..20_000u32).map(|i| (i * 7 + 3) as u8));
        assert_eq!(run(&junk).unwrap(), run(&good).unwrap());
    }
}
