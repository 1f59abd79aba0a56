"""Remote mode without leaving the machine: the harness against a server it did not spawn,
over TLS (server certificate, and mutual TLS), and from another network namespace, as a
server on another machine would be reached. Real server binary, real CLI, real certificates
(made with openssl)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridbench.backends.grpc import GrpcBackend, server_binary
from hybridbench.cli import main
from hybridbench.results import FAILED, OK, load

pytestmark = [
    pytest.mark.skipif(GrpcBackend.unavailable_reason() is not None,
                       reason=str(GrpcBackend.unavailable_reason())),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]

#: the server's address inside the test's network namespace
NETNS_SERVER_IP, NETNS_CLIENT_IP = "10.231.77.2", "10.231.77.1"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(name: str, ca: str, cwd: Path, extension: str) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj",
             f"/CN={name}", "-out", f"{name}.csr", cwd=cwd)
    (cwd / f"{name}.ext").write_text(extension)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem",
             cwd=cwd)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and the namespace address, a client
    certificate, and a second CA that vouches for neither."""
    cwd = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key",
                 "-subj", f"/CN={ca}", "-days", "2", "-out", f"{ca}.pem", cwd=cwd)
    _issue("server", "ca", cwd,
           f"subjectAltName=IP:127.0.0.1,IP:{NETNS_SERVER_IP}\nextendedKeyUsage=serverAuth\n")
    _issue("client", "ca", cwd, "extendedKeyUsage=clientAuth\n")
    return cwd


@contextlib.contextmanager
def _server(listen: str, *extra: str, netns: str | None = None) -> Iterator[str]:
    command = [str(server_binary()), "--listen", listen, "--allow-remote", "--no-parent-watch",
               *extra]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode().strip()
        assert line.startswith("listening on "), (line, proc.stderr.read().decode())
        yield line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(10)


def _tls_server_args(pki: Path, *, mutual: bool = False) -> list[str]:
    args = ["--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key")]
    return args + (["--tls-client-ca", str(pki / "ca.pem")] if mutual else [])


def _run(tmp_path: Path, target: str, *tls: str) -> tuple[int, object]:
    out = tmp_path / f"{uuid.uuid4().hex}.json"
    code = main(["run", "-w", "json", "-b", "grpc", "--size", "64KB", "--quick",
                 "--no-cold-start", "--grpc-target", target, *tls, "-o", str(out),
                 "--report", str(out.with_suffix(".html"))])
    return code, load(out).cells[0]


@pytest.mark.slow
def test_tls_target_verifies_and_carries_server_resources(tmp_path, pki):
    with _server("127.0.0.1:0", *_tls_server_args(pki)) as address:
        code, cell = _run(tmp_path, address, "--grpc-tls-ca", str(pki / "ca.pem"))
    assert code == 0 and cell.status == OK and cell.verified
    assert cell.backend_info["tls"] == "server certificate"
    assert cell.resource_source["server"] == "self-reported"
    assert cell.cpu_s_per_op["server"] is not None and cell.rss_peak_bytes["server"]


@pytest.mark.slow
def test_mutual_tls_needs_the_client_certificate(tmp_path, pki):
    ca = ["--grpc-tls-ca", str(pki / "ca.pem")]
    identity = ["--grpc-tls-cert", str(pki / "client.pem"),
                "--grpc-tls-key", str(pki / "client.key")]
    with _server("127.0.0.1:0", *_tls_server_args(pki, mutual=True)) as address:
        code, cell = _run(tmp_path, address, *ca, *identity)
        assert code == 0 and cell.status == OK and cell.backend_info["tls"] == "mutual"
        code, cell = _run(tmp_path, address, *ca)
        assert code == 1 and cell.status == FAILED and "TLS" in cell.error


@pytest.mark.parametrize("client, expected", [
    ("plaintext", "does not speak gRPC"),
    ("other-ca", "TLS"),
])
def test_tls_mismatches_are_named(tmp_path, pki, client, expected):
    tls = [] if client == "plaintext" else ["--grpc-tls-ca", str(pki / f"{client}.pem")]
    with _server("127.0.0.1:0", *_tls_server_args(pki)) as address:
        code, cell = _run(tmp_path, address, *tls)
    assert code == 1 and cell.status == FAILED and expected in cell.error, cell.error


def test_tls_options_are_checked_before_running(tmp_path, pki, capsys):
    base = ["run", "-w", "json", "-b", "grpc", "-o", str(tmp_path / "x.json")]
    assert main([*base, "--grpc-tls-ca", str(pki / "ca.pem")]) == 2
    assert "need --grpc-target" in capsys.readouterr().out
    assert main([*base, "--grpc-target", "127.0.0.1:1", "--grpc-tls-ca",
                 str(tmp_path / "nope.pem")]) == 2
    assert "no such file" in capsys.readouterr().out
    assert main([*base, "--grpc-target", "127.0.0.1:1", "--grpc-tls-ca", str(pki / "ca.pem"),
                 "--grpc-tls-cert", str(pki / "client.pem")]) == 2
    assert "go together" in capsys.readouterr().out


def _netns_problem() -> str | None:
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    if os.geteuid() != 0:
        return "creating a network namespace needs root"
    return None


@contextlib.contextmanager
def _namespace() -> Iterator[str]:
    """A namespace joined to this one by a veth pair: a second host on a private /30."""
    name = f"hb-{os.getpid()}"
    host_end, ns_end = f"hbh{os.getpid() % 100000}", f"hbn{os.getpid() % 100000}"
    steps = [["ip", "netns", "add", name],
             ["ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end],
             ["ip", "link", "set", ns_end, "netns", name],
             ["ip", "addr", "add", f"{NETNS_CLIENT_IP}/30", "dev", host_end],
             ["ip", "link", "set", host_end, "up"],
             ["ip", "netns", "exec", name, "ip", "addr", "add", f"{NETNS_SERVER_IP}/30", "dev",
              ns_end],
             ["ip", "netns", "exec", name, "ip", "link", "set", ns_end, "up"],
             ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]]
    try:
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"cannot make a network namespace here: {' '.join(step)}: "
                            f"{done.stderr.strip()}")
        yield name
    finally:
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.mark.slow
def test_server_in_another_network_namespace(tmp_path, pki):
    """The server alone in its namespace, reachable only over the veth link: what crosses
    is a real network path (not loopback), with TLS, as to another machine."""
    problem = _netns_problem()
    if problem:
        pytest.skip(problem)
    with _namespace() as netns, _server(f"{NETNS_SERVER_IP}:50051", *_tls_server_args(pki),
                                        netns=netns) as address:
        assert address == f"{NETNS_SERVER_IP}:50051"
        code, cell = _run(tmp_path, address, "--grpc-tls-ca", str(pki / "ca.pem"))
    assert code == 0 and cell.status == OK and cell.verified
    assert cell.resource_source["server"] == "self-reported"
    assert cell.cpu_s_per_op["server"] is not None and cell.rss_peak_bytes["server"]
