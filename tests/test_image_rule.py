"""The ``image`` rule that verification cannot enforce: every engine decodes at full resolution.

PSNR cannot tell a full decode from a DCT-scaled one (``workloads/image.py``, step 1, quotes
the figures), so the rule is checked on the engines themselves:

* their code (comments and strings left out, so prose about the rule never trips it) calls no
  scaled decode: Pillow ``draft``/``reduce`` or libvips shrink-on-load in Python, libjpeg-turbo
  scaling factors or jpeg-decoder's ``scale`` in Rust, and in Go no JPEG decoder but the
  standard library's (which has no scaled decoding);
* the Python engines, run, decode the full size: Pillow resizes from the input's own size and
  no scaled decode is called.

The ``thumbnail`` workload is where scaled decoding is allowed; it serves here as the proof
that the checks see a scaled decode when there is one.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import hybridbench
from hybridbench.workloads import image, thumbnail

ROOT = Path(__file__).resolve().parent.parent

#: identifiers (in code, not comments) that mean a scaled decode
PYTHON_FORBIDDEN = re.compile(r"^(draft|reduce|thumbnail\w*)$|shrink", re.IGNORECASE)
RUST_FORBIDDEN = re.compile(
    r"\b(scaling_factor|set_scaling\w*|ScalingFactor|TJSCALED|scale_num|scale_denom|shrink\w*)\b"
    r"|\.scale\s*\(")  # jpeg-decoder's and the image crate's Decoder::scale
GO_FORBIDDEN = re.compile(r"(?i)shrink|scal(e|ing)_?(factor|target|denom|num)|draft")
#: the one JPEG decoder an image engine in Go may import: it has no scaled decoding
GO_JPEG_DECODER = "image/jpeg"
#: the Go module's own packages (the engine's helpers, scanned as part of it)
GO_MODULE = "hybridbench/goengine/"


# -- what counts as code --------------------------------------------------------------------------


def python_identifiers(source: str) -> list[str]:
    """Names, attributes, keyword arguments and non-docstring string constants of ``source``.

    Comments are not in the syntax tree; docstrings (string expression statements) are left out;
    other strings are kept, since a libvips option string (``"[shrink=2]"``) is code.
    """
    tree = ast.parse(source)
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.append(node.id)
        elif isinstance(node, ast.Attribute):
            found.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            found.append(node.arg)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            found.extend(re.findall(r"\w+", node.value))
    return found


# a C-family token: comment, string, char literal (Rust lifetimes are not), or anything else
_C_LIKE = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>r(?P<hashes>\#*)".*?"(?P=hashes)|"(?:\\.|[^"\\])*"|`[^`]*`|'(?:\\.|[^'\\])')
  | (?P<code>.)
""", re.DOTALL | re.VERBOSE)


def c_like_code(source: str, keep_strings: bool = False) -> str:
    """``source`` (Rust or Go) without its comments, and without its string literals unless
    ``keep_strings``: each becomes a space, so tokens on either side stay apart."""
    out = []
    for match in _C_LIKE.finditer(source):
        if match.group("code") is not None or (keep_strings and match.group("string")):
            out.append(match.group(0))
        else:
            out.append(" ")
    return "".join(out)


def go_imports(source: str) -> list[str]:
    code = c_like_code(source, keep_strings=True)
    blocks = re.findall(r"\bimport\s*\((.*?)\)", code, re.DOTALL)
    singles = re.findall(r'\bimport\s+(?:\w+\s+)?("[^"]*")', code)
    return re.findall(r'"([^"]*)"', " ".join(blocks + singles))


# -- the checks on code, and proof that they see what they must ----------------------------------


def python_violations(source: str) -> list[str]:
    return [name for name in python_identifiers(source) if PYTHON_FORBIDDEN.search(name)]


def rust_violations(source: str) -> list[str]:
    return [m.group(0) for m in RUST_FORBIDDEN.finditer(c_like_code(source))]


def go_violations(source: str) -> list[str]:
    """Scaled-decode calls in one Go file; the module's own packages it imports are checked
    where they are used (``go_package_violations``)."""
    bad_imports = [path for path in go_imports(source)
                   if re.search(r"(?i)jpeg|vips|turbo", path) and path != GO_JPEG_DECODER
                   and not path.startswith(GO_MODULE)]
    return bad_imports + [m.group(0) for m in GO_FORBIDDEN.finditer(c_like_code(source))]


def _go_files(package: Path) -> list[Path]:
    return sorted(p for p in package.glob("*.go") if not p.name.endswith("_test.go"))


def go_package_violations(package: Path, seen: set[Path] | None = None) -> list[str]:
    """``go_violations`` of a package and of every package of this module it imports."""
    seen = set() if seen is None else seen
    seen.add(package)
    found: list[str] = []
    for path in _go_files(package):
        source = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {v}" for v in go_violations(source)]
        for imported in go_imports(source):
            if imported.startswith(GO_MODULE):
                dependency = ROOT / "go" / imported.removeprefix(GO_MODULE)
                if dependency not in seen:
                    found += go_package_violations(dependency, seen)
    return found


def test_the_scanners_ignore_prose_and_see_calls():
    python = '"""Never call draft() or shrink-on-load."""\n# jpeg.draft("RGB", size)\nx = 1\n'
    assert python_violations(python) == []
    assert python_violations('im.draft("RGB", (8, 8))') == ["draft"]
    assert python_violations('pyvips.Image.new_from_buffer(b, "[shrink=2]")') == ["shrink"]
    assert python_violations('pyvips.Image.thumbnail_buffer(b, 8)') == ["thumbnail_buffer"]
    rust = ('// d.set_scaling_factor(ScalingFactor::ONE_HALF)\n/* .scale(8, 8) */\n'
            'let s = "scaling_factor"; let c = \'"\'; fn f<\'a>(x: &\'a u8) {}\n')
    assert rust_violations(rust) == []
    assert rust_violations("d.set_scaling_factor(ScalingFactor::ONE_HALF)?;") == [
        "set_scaling_factor", "ScalingFactor"]
    assert rust_violations("decoder.scale(800, 600)") == [".scale("]
    go = ('import (\n\t"image/jpeg" // not "github.com/pixiv/go-libjpeg/jpeg"\n)\n'
          '// opts.ScaleTarget = r\nvar s = "shrink"\nlanczos3.Scale(dst, r, src, b, op, nil)\n')
    assert go_violations(go) == []
    assert go_violations('import (\n\tlj "github.com/pixiv/go-libjpeg/jpeg"\n)\n'
                         'o := &lj.DecoderOptions{ScaleTarget: r}\n') == [
        "github.com/pixiv/go-libjpeg/jpeg", "ScaleTarget"]


def test_the_scanners_see_the_scaled_decode_of_the_thumbnail_engines():
    assert "draft" in python_violations((ROOT / "workloads" / "thumbnail.py").read_text())
    rust = ROOT / "native" / "kernels" / "src" / "thumbnail.rs"
    assert "set_scaling_factor" in rust_violations(rust.read_text())


def test_the_go_check_follows_the_modules_own_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "go" / "kernels" / "helper").mkdir(parents=True)
    (tmp_path / "go" / "kernels" / "image").mkdir()
    (tmp_path / "go" / "kernels" / "helper" / "helper.go").write_text(
        'package helper\nimport lj "github.com/pixiv/go-libjpeg/jpeg"\n'
        "var o = lj.DecoderOptions{ScaleTarget: r}\n")
    (tmp_path / "go" / "kernels" / "image" / "image.go").write_text(
        'package image\nimport "hybridbench/goengine/kernels/helper"\n')
    found = go_package_violations(tmp_path / "go" / "kernels" / "image")
    assert found == ["go/kernels/helper/helper.go: github.com/pixiv/go-libjpeg/jpeg",
                     "go/kernels/helper/helper.go: ScaleTarget"]


def _image_engine_sources(language: str) -> list[Path]:
    found = {
        "python": sorted((ROOT / "workloads").glob("image*.py")),
        "rust": sorted(p for crate in (ROOT / "native").iterdir() if (crate / "src").is_dir()
                       for p in (crate / "src").rglob("*.rs")
                       if p.stem == "image" or "image" in p.relative_to(crate / "src").parts),
        # the idiomatic engine, and the best one (go/kernels/best/imagecgo: libjpeg through
        # cgo; it also checks at run time that the decode gave the header's full size)
        "go": sorted(p for kernels in (ROOT / "go" / "kernels", ROOT / "go" / "kernels" / "best")
                     for p in kernels.glob("image*") if p.is_dir()),
    }[language]
    assert found, f"no {language} image engine found: has the layout changed?"
    return found


@pytest.mark.parametrize(("language", "violations"), [
    ("python", lambda path: python_violations(path.read_text())),
    ("rust", lambda path: rust_violations(path.read_text())),
    ("go", go_package_violations)])  # a package, with the module's packages it imports
def test_no_image_engine_calls_a_scaled_decode(language, violations):
    for path in _image_engine_sources(language):
        found = violations(path)
        assert not found, (f"{path.relative_to(ROOT)} decodes at a reduced scale ({found}): "
                           f"the image workload decodes every pixel (workloads/thumbnail.py "
                           f"is where shrink-on-load is allowed)")


# -- the Python engines, run ----------------------------------------------------------------------


class DecodeSpy:
    """Records Pillow's scaled decodes and the sizes Pillow resizes from; refuses libvips
    thumbnails and shrink-on-load."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from PIL import Image, JpegImagePlugin

        self.scaled: list[str] = []
        self.resized_from: list[tuple[int, int]] = []
        spy = self
        draft, reduce, resize = (JpegImagePlugin.JpegImageFile.draft, Image.Image.reduce,
                                 Image.Image.resize)

        def spied_draft(im, *args, **kwargs):
            spy.scaled.append("draft")
            return draft(im, *args, **kwargs)

        def spied_reduce(im, *args, **kwargs):
            spy.scaled.append("reduce")
            return reduce(im, *args, **kwargs)

        def spied_resize(im, *args, **kwargs):
            spy.resized_from.append(im.size)
            if kwargs.get("reducing_gap"):
                spy.scaled.append("resize(reducing_gap=...)")
            return resize(im, *args, **kwargs)

        monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spied_draft)
        monkeypatch.setattr(Image.Image, "reduce", spied_reduce)
        monkeypatch.setattr(Image.Image, "resize", spied_resize)
        self._spy_on_pyvips(monkeypatch)

    def _spy_on_pyvips(self, monkeypatch: pytest.MonkeyPatch) -> None:
        try:
            import pyvips
        except (ImportError, OSError):
            return
        spy = self
        for name in ("thumbnail", "thumbnail_buffer", "thumbnail_image"):
            monkeypatch.setattr(pyvips.Image, name,
                                lambda *a, _name=name, **k: spy.scaled.append(_name))
        new_from_buffer = pyvips.Image.new_from_buffer

        def spied_new_from_buffer(data, options, **kwargs):
            if "shrink" in options or "shrink" in kwargs:
                spy.scaled.append("new_from_buffer(shrink=...)")
            return new_from_buffer(data, options, **kwargs)

        monkeypatch.setattr(pyvips.Image, "new_from_buffer", spied_new_from_buffer)


def _engines(workload) -> list[tuple[str, object]]:
    engines = [("reference", workload.reference), ("fast", workload.fast)]
    if workload.best_unavailable() is None:
        engines.append(("best", workload.best))
    return engines


@pytest.mark.parametrize("size", ["small", "medium"])
def test_the_python_image_engines_decode_the_full_size(monkeypatch, size):
    payload = hybridbench.make_input("image", size)
    full = image.open_jpeg(payload).size
    for label, engine in _engines(hybridbench.get_workload("image")):
        spy = DecodeSpy(monkeypatch)
        engine(payload)
        assert not spy.scaled, f"image {label} decodes at a reduced scale: {spy.scaled}"
        assert all(source == full for source in spy.resized_from), (
            f"image {label} resized from {spy.resized_from}, not from the full {full}")


def test_the_spy_sees_the_scaled_decode_of_thumbnail_fast(monkeypatch):
    payload = hybridbench.make_input("thumbnail", "medium")
    spy = DecodeSpy(monkeypatch)
    thumbnail.fast(payload)
    assert spy.scaled == ["draft"] and spy.resized_from == [(480, 270)]  # 1/4 of 1920x1080
