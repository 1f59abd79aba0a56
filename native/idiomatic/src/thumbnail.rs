//! `thumbnail`: decode a JPEG, resize to fit 256x256 with an antialiasing filter, encode JPEG
//! q85 (the specification: `workloads/thumbnail.py`). Idiomatic: the `image` crate's full
//! decode (the specification allows a DCT-scaled decode; the crate has none), `resize_exact(..,
//! FilterType::Lanczos3)`, then `jpeg-encoder` at quality 85, 4:2:0 (see [`crate::jpeg`]). The
//! input checks and their messages are `image`'s, starting with `thumbnail:`.

use image::imageops::FilterType;

use crate::{jpeg, Result};

pub const TARGET: u32 = 256;
pub const QUALITY: u8 = 85;

/// Target dimensions: fit inside 256x256 keeping the aspect ratio, in integers.
pub fn fit_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h, t) = (u64::from(width), u64::from(height), u64::from(TARGET));
    if w >= h {
        (TARGET, ((h * t + w / 2) / w).max(1) as u32)
    } else {
        (((w * t + h / 2) / h).max(1) as u32, TARGET)
    }
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let decoded = jpeg::decode(input, "thumbnail")?;
    let (width, height) = fit_size(decoded.width(), decoded.height());
    let resized = decoded
        .resize_exact(width, height, FilterType::Lanczos3)
        .into_rgb8();
    jpeg::encode(&resized, QUALITY, "thumbnail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jpeg::tests::test_jpeg;

    #[test]
    fn fit_size_matches_the_spec() {
        assert_eq!(fit_size(640, 480), (256, 192));
        assert_eq!(fit_size(1920, 1080), (256, 144));
        assert_eq!(fit_size(3840, 2880), (256, 192));
        assert_eq!(fit_size(480, 640), (192, 256));
        assert_eq!(fit_size(5000, 1), (256, 1));
    }

    #[test]
    fn thumbnail_of_a_generated_jpeg_is_the_target_size_and_close_to_the_source() {
        let input = test_jpeg(640, 480);
        let out = run(&input).unwrap();
        let thumb = image::load_from_memory(&out).unwrap().into_rgb8();
        assert_eq!(thumb.dimensions(), (256, 192));
        // the gradient survives: the red channel rises left to right, the green top to bottom
        let (left, right) = (thumb.get_pixel(10, 96)[0], thumb.get_pixel(245, 96)[0]);
        let (top, bottom) = (thumb.get_pixel(128, 10)[1], thumb.get_pixel(128, 181)[1]);
        assert!(
            right > left + 150 && bottom > top + 150,
            "{left} {right} {top} {bottom}"
        );
    }

    #[test]
    fn errors_start_with_thumbnail() {
        let err = run(b"hello").unwrap_err().message;
        assert_eq!(
            err,
            "thumbnail: input is not a JPEG (no SOI marker FF D8 FF at the start)"
        );
    }
}
