"""The deployment files (``deploy/``) agree with the real server and CLI: every server
command line in a manifest or image starts the real server binary, every harness command line
parses with the real CLI, ports, Services and socket paths line up, and the images run as
non-root with a health check. Where a container engine runs and can have the base images
(already loaded, or pulled), the images are built; otherwise those tests skip saying which
image could not be pulled and docker's message."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import script_module  # tests/
import yaml

from hybridbench.backends.grpc import server_binary
from hybridbench.cli import build_parser

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
DOCKERFILES = sorted(DEPLOY.glob("*.Dockerfile"))
SERVER_IMAGE, CLIENT_IMAGE = "hybridbench-server", "hybridbench-client"


def _documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def _pod_specs() -> list[dict[str, Any]]:
    specs = []
    for doc in _documents():
        if doc["kind"] == "Pod":
            specs.append(doc["spec"])
        elif doc["kind"] in ("Deployment", "Job"):
            specs.append(doc["spec"]["template"]["spec"])
    return specs


def _containers(image: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(pod spec, container)`` for every container (init ones too) of ``image``."""
    return [(spec, c) for spec in _pod_specs()
            for c in [*spec.get("initContainers", []), *spec["containers"]]
            if c["image"].split(":")[0] == image]


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in (raw.strip() for raw in text.splitlines())
            if line and not line.startswith("#")]


def _final_stage(path: Path) -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions(path)
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def _json_list(value: str) -> list[str]:
    return yaml.safe_load(value)  # a JSON array is YAML too


def _server_commands() -> list[tuple[str, list[str]]]:
    found = [(f"container {c['name']}", c["args"]) for _, c in _containers(SERVER_IMAGE)]
    for _op, value in (i for i in _final_stage(DEPLOY / "server.Dockerfile") if i[0] == "CMD"):
        found.append(("server.Dockerfile CMD", _json_list(value)))
    return found


def test_every_manifest_is_a_named_kubernetes_object():
    assert MANIFESTS, "no manifests under deploy/k8s"
    for doc in _documents():
        assert {"apiVersion", "kind", "metadata"} <= doc.keys()
        assert doc["metadata"]["name"]


@pytest.mark.parametrize("where, args", _server_commands(), ids=lambda v: str(v)[:40])
def test_server_command_lines_start_the_real_server(tmp_path, where, args):
    """The same flags, with the port made ephemeral and the socket put in a temporary
    directory, start the real binary: an unknown or misspelt flag would stop it."""
    binary = server_binary()
    if binary is None:
        pytest.skip("the Rust server is not built")
    listen = _option(args, "--listen")
    assert listen, f"{where}: no --listen"
    local = (f"unix:{tmp_path / 'hb.sock'}" if listen.startswith("unix:")
             else re.sub(r":\d+$", ":0", listen))
    command = [str(binary), *[local if a == listen else a for a in args]]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("listening on "), (where, proc.stderr.read().decode())
    finally:
        proc.terminate()
        proc.wait(10)


def _harness_args(container: dict[str, Any]) -> list[list[str]]:
    """Every hybridbench command line a client container runs (shell commands split)."""
    if container.get("command", [None])[0] == "sh":
        script = container["args"][-1]
        return [shlex.split(part)[1:] for part in script.split("&&")]
    return [container["args"]]


def test_harness_command_lines_parse_with_the_real_cli():
    parser = build_parser()
    lines = [args for _, c in _containers(CLIENT_IMAGE) for args in _harness_args(c)]
    assert lines
    for args in lines:
        indexed = [a.replace("$(JOB_COMPLETION_INDEX)", "0") for a in args]
        parsed = parser.parse_args(indexed)  # argparse exits on an unknown flag
        assert parsed.command in ("run", "merge", "report")


def _services() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == "Service"}


def test_tcp_targets_are_services_whose_ports_reach_the_server():
    services = _services()
    server_ports = {}
    for _spec, container in _containers(SERVER_IMAGE):
        listen = _option(container["args"], "--listen")
        if listen.startswith("unix:"):
            continue
        port = int(listen.rsplit(":", 1)[1])
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert port in named.values(), "the server listens on a port the container does not open"
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == port, probe
        server_ports.update(named)
        assert "--allow-remote" in container["args"], "a non-loopback listener needs it"
    targets = [_option(c["args"], "--grpc-target") for _, c in _containers(CLIENT_IMAGE)]
    tcp = [t for t in targets if t and not t.startswith("unix:")]
    assert tcp
    for target in tcp:
        host, port = target.rsplit(":", 1)
        service = services[host]
        (entry,) = [p for p in service["spec"]["ports"] if p["port"] == int(port)]
        assert server_ports.get(entry["targetPort"], entry["targetPort"]) in server_ports.values()


def test_sidecar_socket_is_on_a_volume_both_containers_mount():
    for spec, harness in _containers(CLIENT_IMAGE):
        target = _option(harness["args"], "--grpc-target") or ""
        if not target.startswith("unix:"):
            continue
        socket = Path(target.removeprefix("unix:"))
        servers = [c for c in spec.get("initContainers", []) + spec["containers"]
                   if c["image"].split(":")[0] == SERVER_IMAGE]
        (server,) = servers
        assert _option(server["args"], "--listen") == target
        for container in (server, harness):
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert str(socket.parent) in mounts, container["name"]
        volume = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}[str(socket.parent)]
        assert {"name": volume, "emptyDir": {}} in spec["volumes"]
        return
    pytest.fail("no sidecar pod (a harness with a unix: --grpc-target)")


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_images_run_as_non_root_with_an_entrypoint(path):
    final = _final_stage(path)
    users = [value.strip() for op, value in final if op == "USER"]
    assert users and users[-1] not in ("0", "root"), "the image must not run as root"
    (entrypoint,) = [_json_list(value) for op, value in final if op == "ENTRYPOINT"]
    assert entrypoint[0] in ("hybridbench-server", "hybridbench")


def test_server_image_exposes_the_manifest_port_and_checks_health():
    final = _final_stage(DEPLOY / "server.Dockerfile")
    exposed = {int(value) for op, value in final if op == "EXPOSE"}
    (cmd,) = [_json_list(value) for op, value in final if op == "CMD"]
    assert int(_option(cmd, "--listen").rsplit(":", 1)[1]) in exposed
    (health,) = [value for op, value in final if op == "HEALTHCHECK"]
    assert "grpc-health-probe" in health and f":{min(exposed)}" in health


def _base_images(path: Path) -> list[str]:
    """The images a Dockerfile's FROM lines start from (not its own earlier stages), with
    ``${ARG}`` read as the argument's default (the public image)."""
    stages: set[str] = set()
    images: list[str] = []
    defaults: dict[str, str] = {}
    for op, value in _dockerfile_instructions(path):
        if op == "ARG" and "=" in value:
            name, _, default = value.partition("=")
            defaults.setdefault(name.strip(), default.strip())
        if op != "FROM":
            continue
        words = [w for w in value.split() if not w.startswith("--")]  # --platform=...
        base = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], words[0])
        if base not in stages and base != "scratch" and base not in images:
            images.append(base)
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2])
    return images


def _images_script() -> Any:
    return script_module.load("images_under_test", DEPLOY.parent / "scripts" / "images.py")


def test_the_dockerfiles_default_to_the_public_images_make_images_stands_in_for():
    """The build arguments' defaults are the public images, and scripts/images.py knows the
    same ones (the stand-ins it makes are for exactly these)."""
    images = _images_script()
    assert _base_images(DEPLOY / "server.Dockerfile") == [
        "rust:1.95-bookworm", "golang:1.26-bookworm", "debian:bookworm-slim"]
    assert _base_images(DEPLOY / "client.Dockerfile") == ["python:3.11-slim"]
    for image in images.IMAGES.values():
        assert sorted(image.bases.values()) == sorted(_base_images(DEPLOY / image.dockerfile))


def _fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, have: str) -> None:
    """A stand-in ``docker`` whose engine has only the images matching ``have`` and no
    route to a registry."""
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\n"
                    "case \"$1 $2\" in\n"
                    f"  'image inspect') case \"$3\" in {have}) exit 0 ;; *) exit 1 ;; esac ;;\n"
                    "  pull*) echo 'Error response from daemon: Get https://registry/v2/: "
                    "dial tcp: lookup registry: no such host' >&2; exit 1 ;;\n"
                    "esac\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


def test_an_unpullable_base_image_is_replaced_by_its_stand_in(tmp_path, monkeypatch):
    """Harness logic only (a fake engine that has the stand-ins but cannot pull): the build
    arguments name the stand-ins, and a prebuilt build runs its builder stages on the
    runtime image (nothing to compile)."""
    _fake_docker(tmp_path, monkeypatch, "hybridbench-standin/*")
    images = _images_script()
    log: list[str] = []
    args = images.base_args(images.SERVER, "prebuilt", log)
    standin = "hybridbench-standin/debian:bookworm-slim"
    assert args == {"RUNTIME_IMAGE": standin, "RUST_IMAGE": standin, "GO_IMAGE": standin}
    assert log == [f"debian:bookworm-slim: stand-in {standin} (already made)"]
    assert images.base_args(images.CLIENT, "source", []) == {
        "PYTHON_IMAGE": "hybridbench-standin/python:3.11-slim"}


def test_a_machine_that_cannot_make_a_stand_in_is_told_why(tmp_path, monkeypatch):
    """No image, no registry, no debootstrap: Unavailable (a test skips on it), naming the
    package to install."""
    _fake_docker(tmp_path, monkeypatch, "none-at-all")
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "debootstrap"
                        else str(tmp_path / name))
    images = _images_script()
    with pytest.raises(images.Unavailable, match="apt-get install debootstrap"):
        images.base_args(images.SERVER, "prebuilt", [])


def _kubectl_problem() -> str | None:
    """Why kubectl cannot validate here: it maps each manifest's kind through the API
    server's discovery, even for ``--dry-run=client`` (tried without a cluster with kubectl
    1.32 and Debian's kubernetes-client 1.20: "unable to recognize ...: connection refused")."""
    if shutil.which("kubectl") is None:
        return "no kubectl on PATH"
    try:
        done = subprocess.run(["kubectl", "get", "--raw", "/version", "--request-timeout=5s"],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "kubectl did not answer within 30 s"
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"kubectl reaches no cluster ({said})"
    return None


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_kubectl_accepts_the_manifests(path):
    problem = _kubectl_problem()
    if problem:
        pytest.skip(f"kubectl validates against a cluster's API, even with --dry-run=client: "
                    f"{problem}")
    done = subprocess.run(["kubectl", "apply", "--dry-run=client", "-f", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
