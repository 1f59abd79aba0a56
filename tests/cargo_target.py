"""A test's own cargo target directory, in which everything the install built is fresh.

The tests that build a plug-in (tests/ab_kernel.py, tests/test_wheel.py) reuse the crates
``make install`` compiled in native/target. Building in that directory itself means waiting for
its lock, which ``make test``'s cargo test build beside pytest holds for its whole run: in a
fresh-clone CI the A/B gate's test waited 325 s for 25 s of its own work (issue 22). A copy
made of hard links takes a second and no space, and has a lock of its own.

Cargo writes each output under a new name or replaces the file (rustc and the linker write a
new file and rename it; cargo removes an uplifted file before linking it), so what these
builds add never reaches the install's directory through a shared link; the few files cargo
rewrites in place (its lock, ``.rustc_info.json``) are left out of the copy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_DIR = ROOT / "native" / "target"
#: files cargo opens and rewrites where they are (its build lock, the rustc version cache)
_REWRITTEN_IN_PLACE = shutil.ignore_patterns(".cargo-lock", ".rustc_info.json")


def private_copy(into: Path) -> Path:
    """native/target as hard links under ``into``; native/target itself where links cannot
    be made (another filesystem), at the price of waiting for its lock."""
    try:
        shutil.copytree(TARGET_DIR, into, symlinks=True, ignore=_REWRITTEN_IN_PLACE,
                        copy_function=_link)
    except (OSError, shutil.Error):
        shutil.rmtree(into, ignore_errors=True)
        return TARGET_DIR
    return into


def _link(source: str, destination: str) -> None:
    # the build beside pytest may remove a temporary file between the listing and the link
    with contextlib.suppress(FileNotFoundError):
        os.link(source, destination)
