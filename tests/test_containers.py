"""The deploy images, built and run for real wherever a Docker engine answers: the server
image from this checkout's release build (``scripts/images.py --artefacts prebuilt``, local
stand-ins for base images the registry cannot give), its servers as sidecars of a verified
``hybridbench run --container`` under CPU and memory limits, and the sidecar manifest's own
command line in the image, health-checked as the image's HEALTHCHECK does. Where no engine
runs, or this machine cannot have a base image (no registry, no debootstrap), every test
skips saying which; a Dockerfile that does not build fails."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import script_module  # tests/
import yaml

from hybridbench import make_input, open_backend, verify

ROOT = Path(__file__).resolve().parent.parent
#: a tag of the tests' own: a user's `make images` build keeps its tag
IMAGE = "hybridbench-server:test-prebuilt"
pytestmark = pytest.mark.slow


def _images_script() -> Any:
    return script_module.load("images_for_containers", ROOT / "scripts" / "images.py")


@pytest.fixture(scope="module")
def server_image() -> str:
    """The server image of this checkout's release build; one build at a time across the
    suite's worker processes (a second build of the same files hits docker's layer cache)."""
    images = _images_script()
    log: list[str] = []
    with open(images.PREBUILT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            args = images.base_args(images.SERVER, "prebuilt", log)  # the engine first
            images.stage_prebuilt()
        except images.Unavailable as exc:
            pytest.skip(f"the images cannot be built here: {exc}")
        images.build(images.SERVER, "prebuilt", args, log, quiet=True, tag=IMAGE)  # fails
    return IMAGE


def _ours() -> list[str]:
    """Containers the harness started (its owner label), still there."""
    done = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter",
                           "label=hybridbench.owner"], capture_output=True, text=True,
                          timeout=60)
    return done.stdout.split()


def test_a_verified_run_against_servers_in_containers(server_image, tmp_path):
    """The Rust and Go servers of the image, each bare and in a container without and with a
    CPU limit, in one run: every cell verified, where each server ran and its limits on
    record, its memory and CPU read from the host, no container left behind."""
    out = tmp_path / "run.json"
    command = [sys.executable, "-m", "hybridbench.cli", "run", "-w", "echo,json",
               "--size", "echo=64B,json=64KB", "-b", "grpc,grpc-go", "--container",
               server_image, "--cpus", "none,0.5", "--memory", "256m", "--duration", "0.4",
               "--workers", "2", "--rounds", "2", "--no-cold-start", "-o", str(out),
               "--report", str(tmp_path / "run.html")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cells = json.loads(out.read_text())["cells"]
    boxed = [c for c in cells if c["backend_info"].get("container")]
    assert len(boxed) == 8 and len(cells) == 12  # 2 workloads x 2 engines x (bare + 2)
    for cell in cells:
        assert cell["status"] == "ok" and cell["verified"], (cell["backend"], cell["error"])
        assert cell["rss_peak_bytes"]["server"] > 0
    for cell in boxed:
        placed = cell["backend_info"]["container"]
        assert placed["image"] == server_image and placed["network"] == "none"
        assert placed["memory"] == "256m" and placed["user"].split(":")[0] != "0"
        assert placed["cpus"] == (0.5 if cell["backend"].endswith("cpus0.5") else None)
        assert cell["backend_info"]["profile"]["container"] == placed
        if placed["cpus"] is not None:  # the quota's counters, read from the host's cgroup
            assert cell["server_reported"]["server"]["cfs_periods"] > 0
    page = (tmp_path / "run.html").read_text()
    assert "server in a container" in page and "0.5 CPU, memory 256m" in page
    assert _ours() == []


def test_the_sidecar_manifest_runs_in_the_image(server_image, tmp_path):
    """sidecar.yaml's server arguments, in the image as its user, the socket on a mounted
    directory: the image's health probe answers and the harness verifies a json call."""
    pod = yaml.safe_load((ROOT / "deploy" / "k8s" / "sidecar.yaml").read_text())
    (server,) = pod["spec"]["initContainers"]
    mount = server["volumeMounts"][0]["mountPath"]
    socket_dir = tmp_path / "socket"
    socket_dir.mkdir()
    if os.getuid() == 0:
        os.chown(socket_dir, 10001, 10001)  # the image's user creates the socket there
    else:
        socket_dir.chmod(0o777)  # a private temporary directory: the image's user may write
    name = f"hybridbench-test-sidecar-{os.getpid()}"
    subprocess.run(["docker", "run", "--detach", "--rm", "--name", name, "--network", "none",
                    "--volume", f"{socket_dir}:{mount}", server_image, *server["args"]],
                   check=True, capture_output=True, timeout=60)
    try:
        probe = server["startupProbe"]["exec"]["command"]
        for _ in range(50):
            checked = subprocess.run(["docker", "exec", name, *probe], capture_output=True,
                                     text=True, timeout=30)
            if checked.returncode == 0:
                break
        assert checked.returncode == 0, checked.stdout + checked.stderr
        socket = socket_dir / Path(server["args"][1].removeprefix("unix:")).name
        payload = make_input("json", "64KB")
        with open_backend("grpc", target=f"unix:{socket}") as backend:
            verify("json", payload, backend.run("json", payload))
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60)


def test_a_client_group_shares_one_server_in_a_container(server_image, tmp_path):
    """``--processes 2``: the manager spawns the group's server in the container and both
    members connect to it (they get its address and the container option together)."""
    out = tmp_path / "group.json"
    command = [sys.executable, "-m", "hybridbench.cli", "run", "-w", "echo", "--size", "64B",
               "-b", "grpc", "--container", server_image, "--processes", "2", "--duration",
               "0.3", "--workers", "2", "--rounds", "2", "--no-cold-start", "-o", str(out),
               "--report", str(tmp_path / "group.html")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (boxed,) = [c for c in json.loads(out.read_text())["cells"]
                if c["backend"] == "grpc@container"]
    assert boxed["status"] == "ok" and boxed["verified"], boxed["error"]
    assert boxed["backend_info"]["container"]["image"] == server_image
    assert _ours() == []
