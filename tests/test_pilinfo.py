"""Which PIL is imported and its SIMD level (``hybridbench.pilinfo``): on this environment's
real PIL, and on made-up installs for the cases it cannot show (plain Pillow over pillow-simd,
a stripped build, other CPUs)."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
from pathlib import Path

import pytest

from hybridbench import cli, pilinfo, results
from hybridbench.report import markdown, model

ROOT = Path(__file__).resolve().parent.parent


# -- this environment --------------------------------------------------------------------------

def test_this_environment_imports_pillow_simd_and_says_how_it_was_built():
    """`make install` puts pillow-simd in place of Pillow (and fails otherwise)."""
    import PIL
    from PIL import _imaging

    info = pilinfo.loaded_pil()
    assert info["version"] == PIL.__version__
    assert info["distribution"] == "pillow-simd" and info["pillow_simd"] is True
    if info["simd"] is not None:
        # the flag it names is in the module's recorded compiler command lines
        flag = info["simd_source"].split()[2]
        assert flag.encode() in Path(_imaging.__file__).read_bytes(), info
        assert info["simd"] in {"SSE4", "AVX", "AVX2", "AVX-512"}
    else:
        assert "no compiler flags recorded" in info["simd_source"]


def test_hybridbench_list_names_the_pil(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("PIL: "))
    info = pilinfo.loaded_pil()
    assert f"{info['distribution']} {info['version']}" in line


# -- which distribution: made-up site directories ---------------------------------------------

def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


def _site(tmp_path: Path, installed: dict[str, tuple[str, bytes]], on_disk: bytes) -> Path:
    """A site directory where each distribution's RECORD lists PIL/_imaging.so with the hash
    of the bytes it installed, and the file holds ``on_disk`` (the last install's)."""
    site = tmp_path / "site"
    (site / "PIL").mkdir(parents=True)
    (site / "PIL" / "_imaging.so").write_bytes(on_disk)
    for name, (version, data) in installed.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"PIL/_imaging.so,{_record_hash(data)},{len(data)}\n")
    return site


@pytest.fixture
def fake_path(monkeypatch):
    """``importlib.metadata`` looking only at the given site directory."""
    def use(site: Path) -> None:
        monkeypatch.setattr(pilinfo.metadata, "distribution",
                            lambda name: _only(name, site))
    return use


def _only(name: str, site: Path) -> importlib.metadata.Distribution:
    for dist in importlib.metadata.distributions(path=[str(site)]):
        if dist.metadata["Name"] == name:
            return dist
    raise importlib.metadata.PackageNotFoundError(name)


def test_plain_pillow_installed_over_pillow_simd_is_named_pillow(tmp_path, fake_path):
    """Both distributions listed, Pillow's files on disk: what matplotlib's dependency does
    after pillow-simd went in, and what the older check called pillow-simd."""
    site = _site(tmp_path, {"pillow-simd": ("12.1.1.post0", b"simd"),
                            "pillow": ("13.0.0", b"plain")}, on_disk=b"plain")
    fake_path(site)
    module = site / "PIL" / "_imaging.so"
    assert pilinfo.imported_distribution(module, "13.0.0") == "pillow"


def test_pillow_simd_installed_last_is_named_pillow_simd(tmp_path, fake_path):
    site = _site(tmp_path, {"pillow-simd": ("12.1.1.post0", b"simd"),
                            "pillow": ("13.0.0", b"plain")}, on_disk=b"simd")
    fake_path(site)
    assert pilinfo.imported_distribution(site / "PIL" / "_imaging.so",
                                         "12.1.1.post0") == "pillow-simd"


def test_without_a_matching_record_the_version_decides(tmp_path, fake_path):
    site = _site(tmp_path, {"pillow": ("13.0.0", b"as installed")}, on_disk=b"rebuilt")
    fake_path(site)
    module = site / "PIL" / "_imaging.so"
    assert pilinfo.imported_distribution(module, "13.0.0") == "pillow"
    assert pilinfo.imported_distribution(module, "9.9.9") is None


# -- the SIMD level ---------------------------------------------------------------------------

@pytest.mark.parametrize(("flags", "level", "flag"), [
    ("GNU C17 12.2.0 -msse4 -mtune=generic -march=x86-64 -g -O3", "SSE4", "-msse4"),
    ("GNU C17 12.2.0 -mavx2 -mtune=generic -g -O3", "AVX2", "-mavx2"),
    ("GNU C17 12.2.0 -march=x86-64-v3 -O2", "AVX2", "-march=x86-64-v3"),
    ("GNU C17 13.1.0 -mavx512f -mavx512bw -O3", "AVX-512", "-mavx512f"),
    ("clang version 17.0.6 -msse4.1 -O2", "SSE4", "-msse4.1"),
])
def test_compiler_flags_give_the_level(flags, level, flag):
    assert pilinfo.flags_level([flags, "GNU C17 12.2.0 -mtune=generic -O3"]) == (level, flag)


def test_no_simd_flag_gives_no_level():
    assert pilinfo.flags_level(["GNU C17 12.2.0 -mtune=generic -march=x86-64 -O3"]) is None
    assert pilinfo.flags_level([]) is None


def test_the_level_is_read_from_the_module_file(tmp_path):
    module = tmp_path / "_imaging.so"
    module.write_bytes(b"\x7fELF\x00junk\x00GNU C17 12.2.0 -mavx2 -O3 -fPIC\x00more\x00"
                       b"GNU C17 12.2.0 -O3\x00")
    level, source = pilinfo.simd_level("pillow-simd", module)
    assert level == "AVX2" and "-mavx2" in source and module.name in source
    module.write_bytes(b"\x7fELF\x00stripped\x00")
    level, source = pilinfo.simd_level("pillow-simd", module)
    assert level is None and "no compiler flags recorded" in source
    level, source = pilinfo.simd_level("pillow", module)
    assert level == "none" and "plain Pillow" in source


def test_an_unreadable_module_is_said_so(tmp_path):
    level, source = pilinfo.simd_level("pillow-simd", tmp_path / "missing.so")
    assert level is None and "could not be read" in source


@pytest.mark.parametrize(("flags", "level"), [
    ("fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 avx512f avx512bw", "AVX-512"),
    ("fpu sse sse2 sse4_1 sse4_2 avx avx2 fma", "AVX2"),
    ("fpu sse sse2 sse4_1 sse4_2", "SSE4"),
    ("fpu sse sse2", "SSE2"),
])
def test_the_cpu_level_comes_from_its_flags(tmp_path, flags, level):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: X\nflags\t\t: {flags}\n\n")
    assert pilinfo.cpu_simd_level(cpuinfo) == level
    assert pilinfo.cpu_simd_level(tmp_path / "absent") is None


# -- what the user reads ----------------------------------------------------------------------

def test_plain_pillow_is_described_with_the_way_to_pillow_simd():
    info = {"version": "13.0.0", "distribution": "pillow", "pillow_simd": False,
            "libjpeg_turbo": True, "libjpeg_turbo_version": "3.2.0", "simd": "none",
            "simd_source": "plain Pillow: no SIMD code of its own", "cpu_simd": "AVX2"}
    text = pilinfo.describe(info)
    assert text.startswith("PIL: pillow 13.0.0 (SIMD none, this CPU has AVX2, libjpeg-turbo")
    assert 'README "pillow-simd"' in text
    simd = {**info, "distribution": "pillow-simd", "pillow_simd": True, "simd": "SSE4",
            "version": "12.1.1.post0"}
    assert "README" not in pilinfo.describe(simd)
    assert "not importable" in pilinfo.describe({"version": None})


# -- result files: old ones still read, new ones carry the fields -----------------------------

def _results(pil: dict[str, object]) -> results.Results:
    cell = results.Cell(workload="echo", size="64B", backend="inproc", status="ok",
                        verified=True, samples=100, throughput_ops=1000.0)
    return results.Results(env={"python": "3.11.7", "pil": pil}, cells=[cell])


@pytest.mark.parametrize("pil", [
    # as files written before the distribution and SIMD fields were added
    {"version": "12.1.1.post0", "pillow_simd": True, "libjpeg_turbo": True},
    pilinfo.loaded_pil(),
])
def test_result_files_with_either_pil_record_load_and_report(tmp_path, pil):
    path = tmp_path / "run.json"
    results.save(_results(pil), path)
    loaded = results.load(path)
    assert loaded.env["pil"] == pil
    rows = dict(model.env_rows(loaded.env))
    assert f"version {pil['version']}" in rows["PIL loaded"]
    summary = markdown.render([loaded])
    assert f"PIL {pil['version']}" in summary
    if "distribution" in pil:
        assert f"({pil['distribution']}, SIMD {pil['simd']})" in summary
