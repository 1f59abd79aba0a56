"""noxfile.py: its sessions follow the backend registry, and its lint is `make lint`'s."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from types import ModuleType

import nox.registry
import script_module  # tests/

from hybridbench import registry

ROOT = Path(__file__).parent.parent


def _noxfile() -> ModuleType:
    return script_module.load("noxfile_under_test", ROOT / "noxfile.py")


def test_one_bench_session_per_registered_backend() -> None:
    noxfile = _noxfile()
    assert set(registry.BUILTIN_BACKEND_ORDER) <= set(noxfile.BACKENDS)
    assert "inproc-best" in noxfile.BACKENDS  # the one the hand-kept list had missed
    assert set(noxfile.BACKENDS) >= noxfile.PYTHON_ONLY
    sessions = nox.registry.get()
    assert {f"bench-{b}" for b in noxfile.BACKENDS} <= set(sessions)


def test_nox_and_make_run_the_same_mypy() -> None:
    files = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mypy"]["files"]
    assert files == ["hybridbench", "backends", "workloads"]
    make_lint = re.search(r'"lint: mypy" -- (.*)', (ROOT / "Makefile").read_text("utf-8"))
    assert make_lint is not None and make_lint.group(1).strip() == "$(BIN)/mypy"
    assert 'session.run("mypy")' in (ROOT / "noxfile.py").read_text("utf-8")
