"""A plug-in kernel library whose amount of work can be set in a copy of the built file.

``build(tmp)`` makes a plug-in with ``hybridbench new``, changes its Rust kernel so that it
counts the words of ``WORK / 1000`` of its input (the whole input once, then again, then a
part: 1000 is the plain kernel), builds its C-ABI library once, and installs the plug-in's
Python parts (its workload). ``with_work(library, n, to)`` copies the library with the
number changed in place: a build doing ``n / 1000`` of the work, without a second compile
(the kernel reads the digits from its own bytes, ``read_volatile``, so the compiler cannot
fold them). ``0`` counts nothing: a build that gives a wrong answer.

Used by tests/test_ab.py and, for the issue's 5% and 10% figures, by hand (README
"Regression gate").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cargo_target  # tests/, on the path of the tests that import this module

from hybridbench import scaffold

NAME = "abgate"
#: the marker in the library's read-only data; the digits are the work in thousandths
MARKER, DIGITS = b"HB-AB-WORK=", 5
PLAIN = 1000

KERNEL_PATCH = (
    """    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for word in input
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_ascii_lowercase()).or_insert(0) += 1;
    }
""",
    """    // The A/B test's knob: count the words of WORK/1000 of the input (1000: once).
    let work = work();
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for _ in 0..work / 1000 {
        counts = std::hint::black_box(count(input));
    }
    if work % 1000 > 0 {
        std::hint::black_box(count(&input[..input.len() * (work % 1000) / 1000]));
    }
""")
HELPERS = """
#[used]
static WORK: [u8; 16] = *b"HB-AB-WORK=01000";

/// The digits of WORK, read from the library's own bytes (a copy of the file may change them).
fn work() -> usize {
    let bytes = unsafe { std::ptr::read_volatile(&WORK) };
    bytes[11..16].iter().fold(0, |n, b| n * 10 + (b - b'0') as usize)
}

fn count(input: &[u8]) -> HashMap<Vec<u8>, u64> {
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for word in input
        .split(|b| !b.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_ascii_lowercase()).or_insert(0) += 1;
    }
    counts
}
"""


@dataclass(frozen=True)
class Plugin:
    library: Path
    #: put this on the PYTHONPATH of a hybridbench process to have the workload registered
    site: Path


def _without_cargo(path: str) -> str:
    """PATH without the directories that hold cargo: the pip install then builds the Python
    parts only (the Rust extension is optional), the library being built once, by cargo."""
    return os.pathsep.join(d for d in path.split(os.pathsep)
                           if d and not (Path(d) / "cargo").exists())


def build(tmp: Path) -> Plugin:
    project = scaffold.create(NAME, tmp / NAME)
    source = project / "rust" / "src" / "lib.rs"
    text = source.read_text()
    old, new = KERNEL_PATCH
    assert old in text, "the scaffold's kernel changed: update tests/ab_kernel.py"
    source.write_text(text.replace(old, new).replace("pub fn run(", HELPERS + "\npub fn run(", 1))
    target = cargo_target.private_copy(tmp / "target")
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    built = subprocess.run(["cargo", "build", "--release", "--lib", "--manifest-path",
                            str(project / "rust" / "Cargo.toml")],
                           env=env, capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-4000:]
    library = tmp / f"lib{NAME}_kernels.so"
    # copied out at once: the target directory may be the shared one, other builds' too
    shutil.copyfile(target / "release" / f"lib{NAME}_kernels.so", library)
    site = tmp / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(project)],
        env={**env, "PATH": _without_cargo(env.get("PATH", ""))},
        capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-4000:]
    return Plugin(library, site)


def with_work(library: Path, work: int, to: Path) -> Path:
    """A copy of ``library`` whose kernel does ``work / 1000`` of the plain kernel's work."""
    data = library.read_bytes()
    at = data.find(MARKER)
    assert at >= 0 and data.count(MARKER) == 1, f"{library}: no single {MARKER!r} in it"
    start = at + len(MARKER)
    to.write_bytes(data[:start] + b"%0*d" % (DIGITS, work) + data[start + DIGITS:])
    to.chmod(0o755)
    return to
