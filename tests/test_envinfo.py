"""Environment capture: what a result needs to be reproduced, or distrusted."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import time

from hybridbench import envinfo


def test_capture_records_what_changes_the_numbers() -> None:
    env = envinfo.capture()
    for key in ("cpu_model", "cores_logical", "os", "python", "libraries", "pil", "rustc",
                "git_commit", "load_average"):
        assert key in env, key
    assert env["pil"]["version"]  # which PIL is really imported
    assert "pillow_simd" in env["pil"] and "numpy" in env["libraries"]


def test_another_busy_process_is_noticed() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        share = envinfo.others_cpu_share(0.5)
        warning = envinfo.busy_warning(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert share > 0.6, share
    assert warning is not None and "machine busy" in warning


def test_the_commit_is_recorded_from_a_checkout_only(monkeypatch) -> None:
    """An installed wheel sits in site-packages, maybe inside another project's repository:
    git run from there would record that project's commit as hybridbench's."""
    assert envinfo.IN_CHECKOUT  # the suite runs from a checkout
    env = envinfo.capture()
    assert env["git_commit"] and len(env["git_commit"]) == 40
    version = importlib.metadata.version("hybridbench")
    assert env["libraries"]["hybridbench"] == version
    monkeypatch.setattr(envinfo, "IN_CHECKOUT", False)
    env = envinfo.capture()
    assert env["git_commit"] is None and env["git_dirty"] is False
    assert env["libraries"]["hybridbench"] == version
