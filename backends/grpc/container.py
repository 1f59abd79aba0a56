"""A spawned server in a container: the sidecar deployment (``--container IMAGE``).

A containerised server is still a ``service`` (the placement); the container says where that
service runs and under which limits (the profile's ``container``, DESIGN.md "Names").

The server a gRPC backend would spawn as a bare process runs instead in a container of
``IMAGE``, as a Kubernetes sidecar runs beside its caller: it listens on a Unix socket in a
host directory bind-mounted into the container (the pod's shared ``emptyDir``), has no
network of its own (``--network none``: never a bridge address), runs as a non-root uid with
a read-only root filesystem and no capabilities, and gets the CPU and memory limits a pod's
``resources.limits`` would set (``--cpus``: a CFS quota; ``--memory``). Everything else is the
bare process's path: the same supervision (``supervisor.Server``: SIGTERM, then kill), the
same ``listening on ADDR`` handshake (the container's stdout is attached), the same client.

Resources are read from the host: the container's server is a host process whose PID
``docker inspect`` gives, so its RSS, CPU and page faults are sampled as a bare server's are.
Containers are labelled with the harness's PID; a harness killed without cleaning up leaves
its containers running (the runtime, not the harness, is their parent), and the next spawn
removes those whose harness is gone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridbench import allocators
from hybridbench.backends.grpc import supervisor
from hybridbench.errors import BackendError

#: where the socket directory is mounted inside the container
MOUNT = "/run/hybridbench"
#: the uid the images run as (deploy/*.Dockerfile, the manifests' runAsUser)
IMAGE_UID = 10001
OWNER_LABEL = "hybridbench.owner"
DOCKER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ContainerSpec:
    """Where and under which limits a server runs in a container (the backend's
    ``container``, ``cpus`` and ``memory`` options)."""

    image: str
    #: CPUs of CFS quota (``docker run --cpus``; a pod's ``limits.cpu``), None: no limit
    cpus: float | None = None
    #: memory limit in docker's syntax (``256m``, ``1g``; a pod's ``limits.memory``)
    memory: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ContainerSpec | None:
        image = options.get("container")
        if not image:
            return None
        cpus = options.get("cpus")
        if cpus is not None and float(cpus) <= 0:
            raise BackendError(f"container CPU limit must be positive, not {cpus!r}")
        return cls(str(image), None if cpus is None else float(cpus),
                   None if options.get("memory") is None else str(options["memory"]))

    def run_options(self) -> list[str]:
        """The ``docker run`` options of the container: isolation and limits."""
        found = ["--network", "none", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
                 "--security-opt", "no-new-privileges", "--user", container_user()]
        if self.cpus is not None:
            found += ["--cpus", f"{self.cpus:g}"]
        if self.memory is not None:
            found += ["--memory", self.memory, "--memory-swap", self.memory]
        return found

    def describe(self) -> dict[str, Any]:
        """What a result records of the container (``describe()["container"]`` and the
        profile's ``container``)."""
        return {"runtime": "docker", "image": self.image, "image_id": image_id(self.image),
                "cpus": self.cpus, "memory": self.memory, "network": "none",
                "user": container_user(), "transport": "unix socket on a bind-mounted "
                                                       "host directory"}


def container_user() -> str:
    """The uid:gid the server runs as: the images' own non-root user when the harness is
    root (the socket directory is handed to it), else the harness's own (non-root) uid."""
    if os.getuid() == 0:
        return f"{IMAGE_UID}:{IMAGE_UID}"
    return f"{os.getuid()}:{os.getgid()}"


def docker(*args: str, timeout: float = DOCKER_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise BackendError("--container needs the docker client on PATH (Debian: apt-get "
                           "install docker.io)") from None
    except subprocess.TimeoutExpired:
        raise BackendError(f"docker {args[0]} did not answer within {timeout:g} s") from None


def _said(done: subprocess.CompletedProcess[str]) -> str:
    """docker's own words: its first line that is not a pointer to ``--help``."""
    lines = [line for line in (done.stderr or done.stdout).strip().splitlines()
             if line.strip() and "--help" not in line]
    return lines[0] if lines else "no message"


@functools.cache
def image_id(image: str) -> str:
    """The image's content id (what was measured, whatever the tag points to later)."""
    done = docker("image", "inspect", "--format", "{{.Id}}", image)
    if done.returncode != 0:
        raise BackendError(f"container image {image!r} is not here ({_said(done)}); build it "
                           f"with `make images`")
    return done.stdout.strip()


def unavailable_reason(image: str) -> str | None:
    """Why servers cannot run in ``image`` here (no engine, no such image), or None."""
    if shutil.which("docker") is None:
        return "--container needs the docker client on PATH (Debian: apt-get install docker.io)"
    try:
        image_id(image)
    except BackendError as exc:
        return str(exc)
    return None


@functools.cache
def list_output(image: str, command: tuple[str, ...]) -> str:
    """``command`` run once in a throwaway container of ``image`` (no network), its stdout:
    how a backend learns what the image's server implements before it spawns one."""
    done = docker("run", "--rm", "--network", "none", "--user", container_user(),
                  "--entrypoint", command[0], image, *command[1:])
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} in {image} exited with {done.returncode}: "
                           f"{_said(done)}")
    return done.stdout


class ContainerServer(supervisor.Server):
    """A server whose process is a container: ``proc`` is the attached ``docker run`` client
    (SIGTERM reaches the server through it), ``pid`` the server's own host PID."""

    def __init__(self, command: list[str], tmpdir: str, stderr_path: Path, name: str) -> None:
        self.name = name
        self.host_pid: int | None = None
        super().__init__(command, tmpdir, stderr_path)

    @property
    def pid(self) -> int:
        return self.host_pid if self.host_pid is not None else self.proc.pid

    def resolve_pid(self) -> None:
        done = docker("inspect", "--format", "{{.State.Pid}}", self.name)
        pid = int(done.stdout.strip() or 0) if done.returncode == 0 else 0
        if pid <= 0:
            raise self.failure(f"its container {self.name} has no running process "
                               f"({_said(done)})")
        self.host_pid = pid

    def stop(self) -> None:
        super().stop()
        with contextlib.suppress(BackendError):
            docker("rm", "--force", self.name)


#: where cgroup controllers are mounted (v1: one directory per controller; v2: unified)
CGROUP_ROOT = Path("/sys/fs/cgroup")


def cfs_throttling(pid: int) -> dict[str, float] | None:
    """The CFS bandwidth counters of the cgroup process ``pid`` runs in, since it was made:
    ``cfs_periods`` (100 ms periods with a quota in force), ``cfs_throttled_periods`` (those
    in which the quota ran out and the container's threads were stopped) and
    ``cfs_throttled_s``; None where the kernel does not say (no limit or no cgroup found).
    Why: a CPU limit lengthens the tail only through throttled periods, so a P99 under a
    limit is read beside them."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if "cpu" in controllers.split(","):  # v1
            candidates = [CGROUP_ROOT / controllers / relative, CGROUP_ROOT / "cpu" / relative]
        elif controllers == "":  # v2 (or v1's hybrid "unified" hierarchy)
            candidates = [CGROUP_ROOT / relative, CGROUP_ROOT / "unified" / relative]
        else:
            continue
        for directory in candidates:
            stat = _read_stat(directory / "cpu.stat")
            if stat and "nr_periods" in stat:
                throttled_ns = stat.get("throttled_time", stat.get("throttled_usec", 0) * 1000)
                return {"cfs_periods": stat["nr_periods"],
                        "cfs_throttled_periods": stat.get("nr_throttled", 0),
                        "cfs_throttled_s": throttled_ns / 1e9}
    return None


def _read_stat(path: Path) -> dict[str, float] | None:
    try:
        pairs = (line.split() for line in path.read_text().splitlines())
    except OSError:
        return None
    return {p[0]: float(p[1]) for p in pairs if len(p) == 2}


_SWEPT = threading.Event()


def sweep_orphans() -> None:
    """Remove containers of harness processes that are gone (once per process)."""
    if _SWEPT.is_set():
        return
    _SWEPT.set()
    done = docker("ps", "--all", "--filter", f"label={OWNER_LABEL}",
                  "--format", f'{{{{.Names}}}} {{{{.Label "{OWNER_LABEL}"}}}}')
    for line in done.stdout.splitlines():
        name, _, owner = line.partition(" ")
        if owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner)):
            docker("rm", "--force", name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _environment() -> list[str]:
    """``-e`` options carrying the allocator's glibc settings into the container (a
    preloaded allocator's library is the host's, not the image's: not carried; the cell's
    allocator check then says what the server really ran under)."""
    env = allocators.spawn_env() or {}
    keep = (*allocators.GLIBC_VARIABLES, allocators.ENV_NAME)
    return [item for key in keep if key in env for item in ("-e", f"{key}={env[key]}")]


def spawn(command: list[str], label: str, spec: ContainerSpec, deadline: float,
          workers: int | None = None) -> tuple[ContainerServer, str]:
    """Start ``command`` (the server's command inside the image) in a container of
    ``spec``, listening on a socket in a fresh host directory; return it and the host
    address of that socket once the server listens."""
    sweep_orphans()
    tmpdir = tempfile.mkdtemp(prefix=f"{supervisor.TMP_PREFIX}{os.getpid()}-{label}-")
    if os.getuid() == 0:
        os.chown(tmpdir, IMAGE_UID, IMAGE_UID)  # the server creates its socket there
    name = f"hybridbench-{os.getpid()}-{label}-{uuid.uuid4().hex[:8]}"
    args = [*command[1:], "--listen", f"unix:{MOUNT}/server.sock", "--no-parent-watch"]
    if workers:
        args += ["--workers", str(int(workers))]
    docker_run = ["docker", "run", "--rm", "--name", name, "--label", f"{OWNER_LABEL}="
                  f"{os.getpid()}", "--volume", f"{tmpdir}:{MOUNT}", *spec.run_options(),
                  *_environment(), "--entrypoint", command[0], spec.image, *args]
    try:
        server = ContainerServer(docker_run, tmpdir, Path(tmpdir) / "stderr.log", name)
    except OSError as exc:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise BackendError(f"cannot start docker: {exc}") from None
    try:
        said = server.wait_listening(deadline)
        server.resolve_pid()
    except BaseException:
        server.stop()
        raise
    # the server names its address inside the container; the client uses the host's view
    return server, "unix:" + str(Path(tmpdir) / Path(said.removeprefix("unix:")).name)


def wait_gone(name: str, timeout_s: float = 10.0) -> bool:
    """True once no container ``name`` exists (tests: nothing is left behind)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if docker("inspect", name).returncode != 0:
            return True
        time.sleep(0.1)
    return False
