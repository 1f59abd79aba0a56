"""Build the deploy images (``make images``): ``hybridbench-server`` and ``hybridbench-client``
from ``deploy/*.Dockerfile``, with local stand-ins for base images the engine cannot pull.

Each public base image a Dockerfile names (``debian:bookworm-slim``, ``rust:1.95-bookworm``,
``golang:1.26-bookworm``, ``python:3.11-slim``) is used when the engine has it or can pull it;
otherwise a stand-in is made once and kept (idempotent: a second run reuses it):

* ``debian``: ``debootstrap --variant=minbase bookworm``, imported with ``docker import``;
* ``python``: that base with Debian's Python 3.11 in a virtual environment first on PATH;
* ``rust`` / ``golang``: that base with a C toolchain and *this machine's own* Rust and Go
  toolchains copied in (the public images carry the same: a compiler and its tools).

``--artefacts source`` (default) builds the servers inside ``docker build`` from the
repository (minutes on 2 cores); ``--artefacts prebuilt`` copies this checkout's release
build (``make install``) into ``deploy/prebuilt/`` and builds in seconds: the builder stages
then run on the runtime image and compile nothing. Exit status 1 with a sentence when a
step cannot be done (no engine, no debootstrap, no release build), never a traceback.

    python scripts/images.py [--artefacts source|prebuilt] [--only server|client] [--prepare]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PREBUILT = DEPLOY / "prebuilt"
STANDIN_PREFIX = "hybridbench-standin/"
#: the release of grpc-health-probe both build paths install (the Dockerfile's source path
#: pins the same)
HEALTH_PROBE = "github.com/grpc-ecosystem/grpc-health-probe@v0.4.62"
PULL_TIMEOUT_S = 300


class ImageError(Exception):
    """A step that failed, in words (a Dockerfile that does not build, for one)."""


class Unavailable(ImageError):
    """What this machine lacks to build at all (an engine, a way to a base image, a release
    build): a test skips on it, where a failed build fails."""


@dataclass(frozen=True)
class Image:
    """One image ``make images`` builds: its Dockerfile and the build arguments naming its
    base images (argument -> public default)."""

    tag: str
    dockerfile: str
    bases: dict[str, str]


SERVER = Image("hybridbench-server", "server.Dockerfile",
               {"RUST_IMAGE": "rust:1.95-bookworm", "GO_IMAGE": "golang:1.26-bookworm",
                "RUNTIME_IMAGE": "debian:bookworm-slim"})
CLIENT = Image("hybridbench-client", "client.Dockerfile", {"PYTHON_IMAGE": "python:3.11-slim"})
IMAGES = {"server": SERVER, "client": CLIENT}


def docker(*args: str, timeout: float = 3600, check: bool = True,
           stdin: int | None = None, capture: bool = True) -> subprocess.CompletedProcess[str]:
    """``docker ARGS``; a failure is an ImageError naming the command and docker's words."""
    try:
        done = subprocess.run(["docker", *args], capture_output=capture, text=True,
                              timeout=timeout, stdin=stdin)
    except FileNotFoundError:
        raise Unavailable("no docker client on PATH (Debian: apt-get install docker.io)") from None
    except subprocess.TimeoutExpired:
        raise ImageError(f"docker {' '.join(args[:2])} took over {timeout:g} s") from None
    if check and done.returncode != 0:
        # a build's last lines say which step failed and why; other commands say it in one
        lines = ((done.stderr or done.stdout or "").strip().splitlines()
                 or ["see docker's output above" if not capture else "no message"])
        said = "\n".join(lines[-15:]) if args[0] == "build" else lines[-1]
        raise ImageError(f"docker {' '.join(args[:3])} failed: {said}")
    return done


def engine_problem() -> str | None:
    """Why no image can be built here (None: a Docker engine answers)."""
    if shutil.which("docker") is None:
        return "no docker client on PATH (Debian: apt-get install docker.io)"
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer `docker info` within 30 s"
    if probe.returncode != 0:
        return "the docker client is here but no Docker engine runs (start dockerd)"
    return None


def have(image: str) -> bool:
    return docker("image", "inspect", image, check=False).returncode == 0


def standin_name(public: str) -> str:
    return STANDIN_PREFIX + public


def resolve(public: str, log: list[str]) -> str:
    """The image to build from in place of ``public``: itself when the engine has it or can
    pull it, else its stand-in (made once)."""
    if have(public):
        return public
    pulled = docker("pull", public, check=False, timeout=PULL_TIMEOUT_S)
    if pulled.returncode == 0:
        log.append(f"{public}: pulled")
        return public
    standin = standin_name(public)
    if not have(standin):
        started = time.monotonic()
        make_standin(public, standin)
        log.append(f"{public}: stand-in {standin} made in {time.monotonic() - started:.0f} s")
    else:
        log.append(f"{public}: stand-in {standin} (already made)")
    return standin


def make_standin(public: str, standin: str) -> None:
    family = public.split(":")[0]
    if family == "debian":
        _debootstrap(standin)
    elif family == "python":
        _derive(standin, _PYTHON_STANDIN, {})
    elif family == "rust":
        _derive(standin, _RUST_STANDIN, {"toolchain": _rust_sysroot()})
    elif family == "golang":
        _derive(standin, _GO_STANDIN, {"toolchain": _go_root()})
    else:
        raise Unavailable(f"{public} cannot be pulled and no stand-in is known for it")


def _debootstrap(standin: str) -> None:
    if shutil.which("debootstrap") is None:
        raise Unavailable("debian:bookworm-slim cannot be pulled and debootstrap is not here to "
                         "make a stand-in (Debian: apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="hybridbench-debootstrap-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        done = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs),
                               "http://deb.debian.org/debian"], capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-500:]
            raise Unavailable(f"debootstrap failed (root needed; network to deb.debian.org): "
                             f"{tail}")
        _trust_this_machine(rootfs)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        docker("import", "--change", "CMD [\"bash\"]", "-", standin, stdin=tar.stdout.fileno())
        tar.stdout.close()
        tar.wait()


#: this machine's CA bundle: a stand-in trusts what the machine trusts, so that HTTPS from
#: inside builds (pip, cargo, go) works where the machine reaches the internet through a TLS
#: proxy with its own CA (this one does)
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _trust_this_machine(rootfs: Path) -> None:
    """The host's CA bundle into the stand-in, where Debian's ca-certificates keeps it and
    where its update-ca-certificates (run when a derived image installs the package) adds
    local certificates from."""
    if not HOST_CA_BUNDLE.is_file():
        return
    for where in ("etc/ssl/certs/ca-certificates.crt",
                  "usr/local/share/ca-certificates/hybridbench-host.crt"):
        target = rootfs / where
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HOST_CA_BUNDLE, target)


_BASE = standin_name("debian:bookworm-slim")
_TOOLS = ("RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates "
          "gcc g++ libc6-dev make pkg-config git curl && rm -rf /var/lib/apt/lists/*\n")
_PYTHON_STANDIN = (f"FROM {_BASE}\n"
                   "RUN apt-get update && apt-get install -y --no-install-recommends python3 "
                   "python3-venv ca-certificates && rm -rf /var/lib/apt/lists/* "
                   "&& python3 -m venv /opt/python\n"
                   # pip trusts certifi's bundle, not the system's: point it at the system's
                   "ENV PATH=/opt/python/bin:$PATH "
                   "PIP_CERT=/etc/ssl/certs/ca-certificates.crt\nCMD [\"python\"]\n")
_RUST_STANDIN = (f"FROM {_BASE}\n{_TOOLS}COPY toolchain /usr/local/rust\n"
                 "ENV PATH=/usr/local/rust/bin:$PATH CARGO_HOME=/usr/local/cargo\n")
_GO_STANDIN = (f"FROM {_BASE}\n{_TOOLS}COPY toolchain /usr/local/go\n"
               "ENV PATH=/usr/local/go/bin:/go/bin:$PATH GOPATH=/go\n")


def _tool_dir(command: list[str], image: str) -> Path:
    """Where this machine's toolchain lives (``rustc --print sysroot``, ``go env GOROOT``), to
    make a stand-in for ``image`` from."""
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise Unavailable(f"{image} cannot be pulled and no {command[0]} is here to make a "
                          "stand-in from") from None
    return Path(out)


def _rust_sysroot() -> Path:
    return _tool_dir(["rustc", "--print", "sysroot"], "rust:1.95-bookworm")


def _go_root() -> Path:
    return _tool_dir(["go", "env", "GOROOT"], "golang:1.26-bookworm")


def _derive(standin: str, dockerfile: str, trees: dict[str, Path]) -> None:
    """Build ``standin`` from ``dockerfile`` with ``trees`` (context name -> a host directory)
    in its context: hard links where the filesystem allows (no copy of a 1 GB toolchain),
    documentation left out."""
    if not have(_BASE):
        make_standin("debian:bookworm-slim", _BASE)
    with tempfile.TemporaryDirectory(prefix="hybridbench-standin-") as tmp:
        context = Path(tmp)
        (context / "Dockerfile").write_text(dockerfile)
        for name, tree in trees.items():
            shutil.copytree(tree, context / name, symlinks=True, copy_function=_link_or_copy,
                            ignore=shutil.ignore_patterns("doc", "man", "*.md"))
        docker("build", "-q", "-t", standin, str(context))


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def install_health_probe() -> None:
    """grpc-health-probe into deploy/prebuilt/ (once: a download and a Go build)."""
    probe = PREBUILT / "grpc-health-probe"
    if probe.is_file():
        return
    try:
        done = subprocess.run(["go", "install", HEALTH_PROBE], capture_output=True, text=True,
                              env={**os.environ, "GOBIN": str(PREBUILT), "CGO_ENABLED": "0"})
    except OSError:
        raise Unavailable("--artefacts prebuilt needs Go on PATH for grpc-health-probe") from None
    if done.returncode != 0:
        raise Unavailable(f"--artefacts prebuilt: `go install {HEALTH_PROBE}` failed: "
                          f"{done.stderr.strip()[-300:]}")


def prepare(log: list[str]) -> None:
    """Everything a prebuilt server build needs but the release build itself: the base
    images (or their stand-ins) and the health probe. CI runs it beside the install."""
    base_args(SERVER, "prebuilt", log)
    install_health_probe()


def stage_prebuilt() -> None:
    """This checkout's release binaries into deploy/prebuilt/ (ARTEFACTS=prebuilt)."""
    from hybridbench.backends.builtin_native import server_path
    from hybridbench.backends.grpc.gobackend import server_path as go_server_path

    found = {"hybridbench-server": server_path(), "hybridbench-go-server": go_server_path()}
    for name, path in found.items():
        if path is None or not path.is_file():
            raise Unavailable(f"--artefacts prebuilt: no release build of {name} here (run "
                             f"`make install` first, with Go on PATH for the Go server)")
        shutil.copy2(path, PREBUILT / name)
    probe = PREBUILT / "grpc-health-probe"
    if not probe.is_file():
        done = subprocess.run(["go", "install", HEALTH_PROBE], capture_output=True, text=True,
                              env={**os.environ, "GOBIN": str(PREBUILT), "CGO_ENABLED": "0"})
        if done.returncode != 0:
            raise Unavailable(f"--artefacts prebuilt: `go install {HEALTH_PROBE}` failed: "
                             f"{done.stderr.strip()[-300:]}")


def base_args(image: Image, artefacts: str, log: list[str]) -> dict[str, str]:
    """The base-image build arguments: each public image, or its stand-in (made if need be);
    Unavailable when this machine cannot have one."""
    problem = engine_problem()
    if problem:
        raise Unavailable(problem)
    args = {name: resolve(public, log) for name, public in image.bases.items()
            if not (artefacts == "prebuilt" and name in ("RUST_IMAGE", "GO_IMAGE"))}
    if image is SERVER and artefacts == "prebuilt":
        # nothing is compiled: the builder stages only copy, on the runtime image
        args["RUST_IMAGE"] = args["GO_IMAGE"] = args["RUNTIME_IMAGE"]
    return args


def build(image: Image, artefacts: str, args: dict[str, str], log: list[str],
          quiet: bool = False, tag: str | None = None) -> None:
    """``docker build`` of ``image`` with these base images (tagged ``tag``, default the
    image's own); ImageError if it fails."""
    command = ["build", "-f", str(DEPLOY / image.dockerfile), "-t", tag or image.tag,
               "--build-arg", f"ARTEFACTS={artefacts}"]
    for name, value in args.items():
        command += ["--build-arg", f"{name}={value}"]
    started = time.monotonic()
    docker(*command, str(ROOT), capture=quiet)
    log.append(f"{tag or image.tag}: built ({artefacts}) in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artefacts", choices=("source", "prebuilt"), default="source")
    parser.add_argument("--only", choices=sorted(IMAGES), action="append",
                        help="build only this image (repeatable; default both)")
    parser.add_argument("--prepare", action="store_true",
                        help="only make what a prebuilt server build needs besides the release "
                             "build (base images or stand-ins, the health probe), and build "
                             "nothing")
    args = parser.parse_args(argv)
    log: list[str] = []
    try:
        if args.prepare:
            prepare(log)
            print("\n".join(log))
            return 0
        if args.artefacts == "prebuilt":
            stage_prebuilt()
        for name in args.only or sorted(IMAGES, reverse=True):
            image = IMAGES[name]
            build(image, args.artefacts, base_args(image, args.artefacts, log), log)
    except ImageError as exc:
        print("\n".join([*log, f"images: {exc}"]), file=sys.stderr)
        return 1
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
