//! `image`: decode a JPEG, resize to fit 800x600 with Lanczos3, sharpen 3x3, encode JPEG q90
//! (see `workloads/image.py` for the specification), with the `image` crate's defaults:
//! `resize_exact(.., FilterType::Lanczos3)` (separable, in `f32`, support scaled with the
//! reduction) and `imageops::filter3x3` for the sharpen; the encoder is `jpeg-encoder` (see
//! [`crate::jpeg`] for the checks and why not the crate's own encoder).

use image::imageops::{self, FilterType};
use image::RgbImage;

use crate::{jpeg, Result};

pub const TARGET_W: u32 = 800;
pub const TARGET_H: u32 = 600;
pub const QUALITY: u8 = 90;
const SHARPEN: [f32; 9] = [0.0, -1.0, 0.0, -1.0, 5.0, -1.0, 0.0, -1.0, 0.0];

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

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let decoded = jpeg::decode(input, "image")?;
    let (width, height) = fit_size(decoded.width(), decoded.height());
    let resized = decoded
        .resize_exact(width, height, FilterType::Lanczos3)
        .into_rgb8();
    jpeg::encode(&sharpen(&resized), QUALITY, "image")
}

/// Step 3. `filter3x3` computes the interior exactly (integer weights on 8-bit values are exact
/// in `f32`; clamped to 0..255) but leaves the one-pixel border black; the specification copies
/// it unchanged, so it is copied back.
pub fn sharpen(src: &RgbImage) -> RgbImage {
    let mut out = imageops::filter3x3(src, &SHARPEN);
    let (w, h) = src.dimensions();
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            *pixel = *src.get_pixel(x, y);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;
    use crate::jpeg::tests::test_jpeg;

    #[test]
    fn fit_size_matches_the_spec() {
        assert_eq!(fit_size(640, 480), (800, 600));
        assert_eq!(fit_size(1920, 1080), (800, 450));
        assert_eq!(fit_size(3840, 2880), (800, 600));
        assert_eq!(fit_size(100, 1000), (60, 600));
        assert_eq!(fit_size(10000, 1), (800, 1));
    }

    #[test]
    fn pipeline_produces_a_jpeg_of_the_target_size() {
        let out = run(&test_jpeg(1920, 1080)).unwrap();
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (800, 450));
    }

    #[test]
    fn sharpen_is_exact_and_copies_the_border() {
        let src = RgbImage::from_fn(4, 3, |x, y| {
            Rgb([(10 * x + 40 * y) as u8, 200, (x * y) as u8])
        });
        let out = sharpen(&src);
        for (x, y, pixel) in out.enumerate_pixels() {
            if x == 0 || y == 0 || x == 3 || y == 2 {
                assert_eq!(pixel, src.get_pixel(x, y));
                continue;
            }
            for c in 0..3 {
                let at = |dx: i32, dy: i32| {
                    i32::from(src.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)[c])
                };
                let want = 5 * at(0, 0) - at(-1, 0) - at(1, 0) - at(0, -1) - at(0, 1);
                assert_eq!(i32::from(pixel[c]), want.clamp(0, 255), "({x}, {y})[{c}]");
            }
        }
    }
}
