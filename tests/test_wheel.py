"""hybridbench as a pip user gets it: the sdist and the wheel of ``python -m build``, the wheel
installed into a fresh virtual environment outside the checkout, and a plug-in scaffolded there
(``hybridbench new``, which builds on the SDK crate the wheel carries), built, its own tests run,
and a verified run of it and the built-ins on every pattern a plug-in has: ``inproc``, ``ffi``,
``grpc`` and ``grpc-py``. This is also the scaffold's end-to-end test (tests/test_scaffold.py
checks the project it writes; building and measuring one plug-in once is enough).

What keeps it within CI's budget (README "Install from a wheel" has the figures):

* the wheel is built from the sdist, as ``python -m build`` does by default, so the build
  proves the sdist holds what a build needs; without build isolation (the test environment
  has the build requirements) and with ``CARGO_TARGET_DIR`` at a hard-link copy of the
  install's target directory (tests/cargo_target.py: no wait for the lock of the cargo test
  build beside pytest), where cargo finds every crate fresh (the SDK's build script names the proto
  relative to itself, so no fingerprint depends on where the sources were unpacked);
* the sources are copied out of the checkout first (``git ls-files``): ``python -m build``
  writes ``hybridbench.egg-info`` into the tree it builds, which other tests, running beside
  this one, read as hybridbench's metadata;
* the fresh environment holds the wheel and nothing else of hybridbench; the third-party
  packages it depends on are borrowed from the test environment through a ``.pth`` line (a
  directory named there joins ``sys.path``, but the ``.pth`` files inside it, such as the
  editable install's import hook, are not run), instead of pip downloading them again
  (numpy, scipy, matplotlib, grpcio: ~50 s here). ``HB_WHEEL_TEST_DEPS=pip`` installs them
  from the index instead, as a user's ``pip install`` does;
* the plug-in's crate builds in the same target directory, so only it and the SDK compile.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import cargo_target  # tests/
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: every pattern a plug-in runs on: in-process Python, the C ABI, the Rust and Python servers
BACKENDS = ("inproc", "ffi", "grpc", "grpc-py")


def _missing() -> str | None:
    if shutil.which("cargo") is None:
        return "cargo is not on PATH"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return "not a git checkout (the test builds from its tracked files)"
    try:
        import build  # noqa: F401
    except ImportError:
        return "the `build` package is not installed (pip install -e '.[dev]')"
    return None


def _run(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 900,
         ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (argv, done.stdout[-4000:], done.stderr[-4000:])
    return done


def _tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file()]


def _copy_sources(files: list[str], destination: Path) -> Path:
    for name in files:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)
    return destination


def _check_sdist(sdist: Path, files: list[str]) -> None:
    """Every tracked file a build reads is in it; no build output is."""
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers()
                   if m.isfile() and "/" in m.name}
        needed = {f for f in files if f.split("/")[0] in
                  {"native", "proto", "go", "hybridbench", "backends", "workloads"}}
        needed |= {"setup.py", "pyproject.toml", "MANIFEST.in", "README.md"}
        assert needed <= set(members), sorted(needed - set(members))[:20]
        assert not [n for n in members if n.startswith("native/target/")]
        for name, member in members.items():
            handle = tar.extractfile(member)
            assert handle is not None and handle.read(4) != b"\x7fELF", f"a binary: {name}"


def _check_wheel(wheel: Path) -> None:
    """The compiled parts and what ``hybridbench new`` and a plug-in's build need."""
    names = zipfile.ZipFile(wheel).namelist()
    name, version = wheel.name.split("-")[:2]
    data = "hybridbench/data/"
    for expected in (data + "native/sdk/Cargo.toml", data + "native/sdk/build.rs",
                     data + "native/sdk/include/hybridbench.h", data + "native/Cargo.lock",
                     data + "proto/hybridbench.proto", f"{name}-{version}.data/scripts/"
                     "hybridbench-server"):
        assert expected in names, expected
    for prefix in ("hybridbench/backends/ffi/libhybridbench_ffi",
                   "hybridbench/backends/ffi/libhybridbench_idiomatic",
                   "hybridbench/backends/ffi/_hb_cffi", "hybridbench/backends/ffi/_hb_fast"):
        assert any(n.startswith(prefix) and n.endswith(".so") for n in names), prefix
    # the Go server wherever the install could build it (the sdist's build runs the same step)
    if (ROOT / "backends" / "grpc" / "bin" / "hybridbench-go-server").is_file():
        assert "hybridbench/backends/grpc/bin/hybridbench-go-server" in names


def _fresh_environment(venv: Path, wheel: Path, env: dict[str, str], cwd: Path) -> Path:
    """A new virtual environment with the wheel installed; returns its python."""
    borrow = os.environ.get("HB_WHEEL_TEST_DEPS") != "pip"
    flags = ["--without-pip"] if borrow else []
    _run([sys.executable, "-m", "venv", *flags, venv], env=env, cwd=cwd, timeout=120)
    python = venv / "bin" / "python"
    if borrow:
        site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         env=env, cwd=cwd).stdout.strip())
        (site / "_borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
        _run([python, "-m", "pip", "install", "--quiet", "--no-deps", wheel], env=env, cwd=cwd)
    else:
        # pytest too: the scaffolded plug-in's own tests run in this environment
        _run([python, "-m", "pip", "install", "--quiet", wheel, "pytest"], env=env, cwd=cwd,
             timeout=1800)
    return python


@pytest.mark.slow
@pytest.mark.skipif(_missing() is not None, reason=str(_missing()))
def test_the_wheel_runs_and_scaffolds_outside_the_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["CARGO_TARGET_DIR"] = str(cargo_target.private_copy(tmp_path / "target"))
    files = _tracked_files()
    source = _copy_sources(files, tmp_path / "source")
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source], env=env,
         cwd=tmp_path, timeout=1800)
    (sdist,), (wheel,) = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    _check_sdist(sdist, files)
    _check_wheel(wheel)

    venv = tmp_path / "venv"
    work = tmp_path / "work"
    work.mkdir()
    python = _fresh_environment(venv, wheel, env, work)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    where = json.loads(_run([python, "-c", (
        "import json, hybridbench, importlib.metadata as m; from hybridbench import scaffold;"
        "print(json.dumps([hybridbench.__file__, str(m.distribution('hybridbench')"
        ".locate_file('')), str(scaffold.sdk_dir())]))")], env=env, cwd=work).stdout)
    for path in where:
        assert Path(path).resolve().is_relative_to(venv.resolve()), where

    _run([venv / "bin" / "hybridbench", "new", "wordfreq"], env=env, cwd=work)
    # borrowed: setuptools-rust is the test environment's; from the index: pip fetches it
    isolation = [] if os.environ.get("HB_WHEEL_TEST_DEPS") == "pip" else [
        "--no-deps", "--no-build-isolation"]
    _run([python, "-m", "pip", "install", "--quiet", *isolation, work / "wordfreq"], env=env,
         cwd=work, timeout=1800)

    # the plug-in's own tests, as its author runs them
    _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", work / "wordfreq" / "tests"],
         env=env, cwd=work, timeout=600)

    out = work / "run.json"
    _run([venv / "bin" / "hybridbench", "run", "-w", "json,echo,wordfreq", "--size", "echo=64B",
          "-b", ",".join(BACKENDS), "--quick", "--workers", "1", "--no-cold-start", "-o", out,
          "--report", work / "run.html"], env=env, cwd=work)
    cells = json.loads(out.read_text())["cells"]
    assert {(c["workload"], c["backend"]) for c in cells} == {
        (w, b) for w in ("json", "echo", "wordfreq") for b in BACKENDS}
    for cell in cells:
        assert cell["status"] == "ok" and cell["verified"], cell
        assert cell["throughput_ops"] > 0
        # the native parts ran from the fresh environment, none from the checkout
        info = cell["backend_info"]
        for library in info.get("libraries", []):
            assert Path(library["path"]).is_relative_to(venv), library
        if "server_command" in info:
            assert info["server_command"].startswith(str(venv / "bin")), info
    _check_listing(venv / "bin" / "hybridbench", env, work)


def _check_listing(hybridbench: Path, env: dict[str, str], cwd: Path) -> None:
    """`hybridbench list`'s last table ("who implements what"): the plug-in runs on every
    backend that runs registered Python or installed kernel packages; not on the built-ins'
    idiomatic library (ffi-idiomatic) nor on the Go engine, which have no plug-in mechanism."""
    lines = _run([hybridbench, "list"], env=env, cwd=cwd, timeout=120).stdout.splitlines()
    header = [line for line in lines if line.startswith("┃ workload")][-1]
    row = [line for line in lines if line.startswith("│ wordfreq")][-1]
    columns = [c.strip() for c in header.strip("┃").split("┃")]
    found = dict(zip(columns, [c.strip() for c in row.strip("│").split("│")], strict=True))
    for backend in ("inproc", "inproc-best", "inproc-pure", "ffi", "grpc", "grpc-py"):
        assert found[backend] == "yes", (backend, lines)
