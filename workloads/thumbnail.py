"""``thumbnail``: decode a JPEG (shrink-on-load allowed), fit into 256x256, encode JPEG q85.

This docstring is the specification; every backend computes exactly this. It is the path most
real services take for images: unlike ``image``, decoding at a reduced scale is allowed.

Input
-----
Exactly the JPEGs ``image`` accepts, rejected with the same checks and the same messages as
``image`` except that they start with ``thumbnail:`` instead of ``image:`` (e.g.
``thumbnail: input is not a JPEG (no SOI marker FF D8 FF at the start)``): a body that is not
a JPEG, a truncated or corrupt JPEG, CMYK/YCCK JPEGs, width or height above 16384, more than
40,000,000 pixels (refused from the header, before decoding), bodies above 64 MiB. EXIF
orientation is ignored; metadata is not copied to the output.

Pipeline
--------
1. Decode to 8-bit RGB (greyscale expanded by copying the grey value to R, G and B). An engine
   MAY decode at a reduced scale in the DCT domain (libjpeg-turbo scaling factors M/8, Pillow's
   ``Image.draft``, libvips shrink-on-load), provided the decoded image is at least the target
   size in both dimensions.
2. Resize to fit inside 256x256 keeping the aspect ratio, up or down. Target size in integer
   arithmetic, from the JPEG's own (full) dimensions ``w`` x ``h``::

       if w >= h:  W = 256; H = max(1, (h * 256 + w // 2) // w)
       else:       H = 256; W = max(1, (w * 256 + h // 2) // h)

   So 640x480 -> 256x192, 1920x1080 -> 256x144, 3840x2880 -> 256x192. The filter must
   antialias: Lanczos3 (the reference), or Catmull-Rom/bicubic, optionally after a box/area
   pre-reduction. Nearest-neighbour or point sampling without antialiasing is wrong.
3. No sharpen.
4. Encode a baseline JPEG, quality 85 (IJG scaling of the standard tables), 4:2:0 chroma
   subsampling, no metadata.

Engines
-------
``reference`` (Pillow): full-resolution decode, ``resize((W, H), Image.LANCZOS)``, save with
quality 85, subsampling 4:2:0. ``fast`` (Pillow, what a team writes): ``Image.draft`` first, so
libjpeg-turbo decodes at 1/2, 1/4 or 1/8 scale (never below the target), then the same Lanczos
resize. ``best`` (pyvips): ``thumbnail_buffer`` (libvips shrink-on-load, then its lanczos3
``resize``) to exactly W x H, ``jpegsave_buffer`` Q 85, 4:2:0, no metadata; the header checks
are ``image``'s (Pillow reads only the header).

Verification
------------
The output decodes as a JPEG of exactly W x H; its PSNR against the reference output over all
RGB samples is >= 30 dB, and every 8x8 block (partial edge blocks dropped) has PSNR >= 20 dB.
Measured on the three presets (seed 0; PSNR overall / worst 8x8 block, dB):

=====================================================  ===============  ===============  ===============
variant                                                small            medium           5MB
=====================================================  ===============  ===============  ===============
Pillow draft + Lanczos3 (``fast``)                     38.9 / 31.2      38.8 / 30.1      38.1 / 29.6
Pillow full decode + bicubic (Catmull-Rom)             44.6 / 34.6      42.1 / 33.4      41.0 / 32.0
Pillow draft + bicubic                                 38.7 / 31.3      38.5 / 30.3      37.9 / 29.6
Pillow box ``reduce`` + Lanczos3 (``reducing_gap=2``)  46.3 / 37.2      44.1 / 34.8      43.6 / 34.8
libvips ``thumbnail_buffer`` (``best``)                38.4 / 31.1      38.1 / 30.1      37.4 / 28.7
wrong: nearest-neighbour                               28.5 / 17.1      24.2 / 14.3      23.4 / 14.1
wrong: a 16x16 patch at half brightness                38.4 / 10.3      38.8 / 10.9      38.1 / 11.4
wrong: shifted by one pixel                            31.2 / 18.8      28.0 / 16.5      27.0 / 16.0
wrong: R and B swapped                                 20.2 / 9.5       19.1 / 8.3       19.1 / 7.2
=====================================================  ===============  ===============  ===============

(Re-measure with ``python -m hybridbench.workloads.thumbnail``.) The block floor catches what
the overall figure misses (a darkened patch, a shifted or point-sampled image); a global 30 dB
catches a swapped channel. Between them and the legitimate variants lies a margin of several dB.

Sizes
-----
Those of ``image``, with the same bytes for the same size and seed (``image``'s generator):
``small`` (640x480), ``medium`` (1920x1080), ``5MB`` (default: 3840x2880, about 5 MB).
"""

from __future__ import annotations

import io

from hybridbench.errors import VerificationError, WorkloadError
from hybridbench.workload import Workload
from hybridbench.workloads import image

NAME = "thumbnail"
TARGET = 256
QUALITY = 85
MIN_PSNR = 30.0
MIN_BLOCK_PSNR = 20.0
BLOCK = 8
PYVIPS_MISSING = "pyvips is not installed (pip install pyvips[binary])"


def fit_size(width: int, height: int) -> tuple[int, int]:
    """Target dimensions of step 2, in integers so every language gets the same answer."""
    if width >= height:
        return TARGET, max(1, (height * TARGET + width // 2) // width)
    return max(1, (width * TARGET + height // 2) // height), TARGET


def _encode(picture) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, subsampling=2, optimize=False)
    return out.getvalue()


def reference(payload: bytes) -> bytes:
    """Full-resolution decode, Lanczos3 to W x H, JPEG q85 4:2:0."""
    from PIL import Image

    decoded = image.open_checked(payload, NAME)
    return _encode(decoded.resize(fit_size(*decoded.size), Image.LANCZOS))


def fast(payload: bytes) -> bytes:
    """The idiomatic Pillow thumbnail: shrink-on-load with ``draft``, then Lanczos3."""
    from PIL import Image

    jpeg = image.open_jpeg(payload, NAME)
    size = fit_size(*jpeg.size)  # from the full size: the scaled one may round differently
    # libjpeg-turbo decodes at the largest of 1/2, 1/4, 1/8 that stays >= size in both sides
    jpeg.draft("RGB", size)
    return _encode(image.load_rgb(jpeg, NAME).resize(size, Image.LANCZOS))


def _pyvips():
    # Imported lazily: pyvips loads libvips, which the other engines do not need.
    import pyvips

    return pyvips


def best_unavailable() -> str | None:
    try:
        _pyvips()
    except (ImportError, OSError):  # OSError: pyvips found, libvips not
        return PYVIPS_MISSING
    return None


def best(payload: bytes) -> bytes:
    """libvips: shrink-on-load and lanczos3 in one ``thumbnail_buffer`` call."""
    pyvips = _pyvips()
    width, height = image.open_jpeg(payload, NAME).size  # the checks and messages of image
    target_w, target_h = fit_size(width, height)
    try:
        thumb = pyvips.Image.thumbnail_buffer(
            payload, target_w, height=target_h,
            size="force",  # exactly W x H of the formula (libvips rounds its own way)
            no_rotate=True,  # EXIF orientation is ignored
            option_string="fail_on=truncated")  # what Pillow refuses, libvips refuses
        if thumb.bands == 1:
            thumb = thumb.colourspace("srgb")  # greyscale expanded to RGB
        return thumb.jpegsave_buffer(Q=QUALITY, subsample_mode="on", keep="none",
                                     optimize_coding=False, interlace=False)
    except pyvips.Error as exc:
        raise WorkloadError(
            f"{NAME}: corrupt or truncated JPEG: {exc.message.strip()}") from None


def verify(output: bytes, expected: bytes) -> None:
    got = image.decode_rgb(output, "output", NAME)
    want = image.decode_rgb(expected, "reference output", NAME)
    if got.shape != want.shape:
        raise VerificationError(
            f"{NAME}: output is {got.shape[1]}x{got.shape[0]}, "
            f"expected {want.shape[1]}x{want.shape[0]}")
    overall, worst = image.psnr(got, want), image.worst_block_psnr(got, want, BLOCK)
    if overall < MIN_PSNR:
        raise VerificationError(
            f"{NAME}: PSNR {overall:.2f} dB against the reference < {MIN_PSNR:.0f} dB")
    if worst < MIN_BLOCK_PSNR:
        raise VerificationError(
            f"{NAME}: an {BLOCK}x{BLOCK} block has PSNR {worst:.2f} dB against the reference "
            f"(< {MIN_BLOCK_PSNR:.0f} dB)")


class ThumbnailWorkload(Workload):
    name = NAME
    summary = "JPEG decode (shrink-on-load allowed), Lanczos3 fit into 256x256, JPEG q85 encode"
    sizes = image.ImageWorkload.sizes
    default_size = "5MB"
    # image's rank: ties sort by name, so thumbnail comes right after image
    rank = image.ImageWorkload.rank
    pure_unsupported = image.ImageWorkload.pure_unsupported
    best_engine = "pyvips thumbnail_buffer (libvips shrink-on-load, lanczos3)"

    def generate(self, size: str, seed: int) -> bytes:
        return image.generate(size, seed)

    def reference(self, payload: bytes) -> bytes:
        return reference(payload)

    def fast(self, payload: bytes) -> bytes:
        return fast(payload)

    def best(self, payload: bytes) -> bytes:
        return best(payload)

    def best_unavailable(self) -> str | None:
        return best_unavailable()

    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        verify(output, expected)


WORKLOAD = ThumbnailWorkload()
