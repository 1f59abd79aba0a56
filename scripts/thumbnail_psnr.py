"""PSNR of legitimate thumbnail variants and of wrong answers against the reference.

The figures behind the thresholds of ``workloads/thumbnail.py`` (its docstring quotes them):
each variant's output, against the reference output, overall and in the worst 8x8 block.
``--ffi LIB`` adds the Rust kernel of that C-ABI library.

    .venv/bin/python scripts/thumbnail_psnr.py \
        [--ffi native/target/release/libhybridbench_kernels.so]
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable

import numpy as np
from PIL import Image

import hybridbench
from hybridbench.workloads import image, thumbnail

SIZES = ("small", "medium", "5MB")


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=thumbnail.QUALITY, subsampling=2)
    return out.getvalue()


def _pillow(filter_: int, draft: bool = False, gap: float | None = None):
    def run(payload: bytes) -> bytes:
        jpeg = image.open_jpeg(payload, "thumbnail")
        size = thumbnail.fit_size(*jpeg.size)
        if draft:
            jpeg.draft("RGB", size)
        return _jpeg(image.load_rgb(jpeg, "thumbnail").resize(size, filter_, reducing_gap=gap))
    return run


def _from_reference(change: Callable[[np.ndarray], np.ndarray]):
    def run(payload: bytes) -> bytes:
        pixels = image.decode_rgb(thumbnail.reference(payload), "reference")
        return _jpeg(Image.fromarray(np.ascontiguousarray(change(pixels.copy()))))
    return run


def _darkened(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape[:2]
    y, x = h // 2, w // 2
    pixels[y:y + 16, x:x + 16] //= 2
    return pixels


def pyvips_problem() -> str | None:
    """Why the pyvips variants cannot run here (pyvips is not a dependency), or None."""
    try:
        import pyvips  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: pyvips without libvips
        return f"pyvips variants skipped: {exc} (pip install 'pyvips[binary]')"
    return None


def vips_shrink_on_load(payload: bytes) -> bytes:
    """libvips: the JPEG loaded at 1/2, 1/4 or 1/8 by the rule of step 1, lanczos3 to W x H."""
    import pyvips

    width, height = image.open_jpeg(payload, "thumbnail").size
    target_w, target_h = thumbnail.fit_size(width, height)
    shrink = max(s for s in (1, 2, 4, 8)
                 if -(-width // s) >= target_w and -(-height // s) >= target_h)
    decoded = pyvips.Image.new_from_buffer(payload, "", shrink=shrink, access="sequential",
                                           fail_on="warning")
    thumb = decoded.resize(target_w / decoded.width, vscale=target_h / decoded.height,
                           kernel="lanczos3")
    return thumb.jpegsave_buffer(Q=thumbnail.QUALITY, subsample_mode="on", keep="none")


def _vips_thumbnail_buffer(payload: bytes) -> bytes:
    import pyvips

    size = thumbnail.fit_size(*image.open_jpeg(payload, "thumbnail").size)
    thumb = pyvips.Image.thumbnail_buffer(payload, size[0], height=size[1], size="force",
                                          no_rotate=True)
    return thumb.jpegsave_buffer(Q=thumbnail.QUALITY, subsample_mode="on", keep="none")


def _nearest(payload: bytes) -> bytes:
    decoded = image.open_checked(payload, "thumbnail")
    return _jpeg(decoded.resize(thumbnail.fit_size(*decoded.size), Image.NEAREST))


def variants(ffi: str | None) -> dict[str, Callable[[bytes], bytes]]:
    found = {
        "Pillow draft + Lanczos3 (fast)": thumbnail.fast,
        "Pillow full decode + bicubic (Catmull-Rom)": _pillow(Image.BICUBIC),
        "Pillow draft + bicubic": _pillow(Image.BICUBIC, draft=True),
        "Pillow box reduce + Lanczos3 (reducing_gap=2)": _pillow(Image.LANCZOS, gap=2.0),
    }
    if pyvips_problem() is None:
        found["libvips thumbnail_buffer"] = _vips_thumbnail_buffer
        found["libvips shrink-on-load + lanczos3"] = vips_shrink_on_load
    if ffi:
        backend = hybridbench.open_backend("ffi", library=ffi)
        found["Rust: turbojpeg scaled decode + fast_image_resize Lanczos3 (ffi)"] = (
            lambda payload: backend.call("thumbnail", payload))
    found.update({
        "wrong: nearest-neighbour": _nearest,
        "wrong: a 16x16 patch at half brightness": _from_reference(_darkened),
        "wrong: shifted by one pixel": _from_reference(lambda p: np.roll(p, 1, axis=1)),
        "wrong: R and B swapped": _from_reference(lambda p: p[:, :, ::-1]),
    })
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ffi", help="a C-ABI kernel library with the thumbnail kernel")
    args = parser.parse_args()
    if pyvips_problem():
        print(pyvips_problem())
    payloads = {size: hybridbench.make_input("thumbnail", size) for size in SIZES}
    wants = {size: image.decode_rgb(thumbnail.reference(p), "reference")
             for size, p in payloads.items()}
    print(f"| variant | {' | '.join(SIZES)} |")
    print(f"|---|{'---|' * len(SIZES)}")
    for label, engine in variants(args.ffi).items():
        cells = []
        for size in SIZES:
            got = image.decode_rgb(engine(payloads[size]), label)
            want = wants[size]
            assert got.shape == want.shape, (label, size, got.shape)
            cells.append(f"{image.psnr(got, want):.1f} / "
                         f"{image.worst_block_psnr(got, want, thumbnail.BLOCK):.1f}")
        print(f"| {label} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
