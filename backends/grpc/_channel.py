"""Client channels: plaintext for the servers the harness spawns (a private Unix socket or
loopback), TLS for a ``--grpc-target`` on another machine when asked (``--grpc-tls-ca``, and
a client certificate for mutual TLS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from hybridbench.backends.grpc import _proto
from hybridbench.errors import BackendError


@dataclass(frozen=True)
class Tls:
    """PEM bytes: the CA the server's certificate must chain to, and optionally the client's
    own certificate chain and key."""

    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Tls | None:
        """From backend options ``tls_ca``, ``tls_cert``, ``tls_key`` (paths); None without
        ``tls_ca``. An unreadable file or half a client identity is a BackendError."""
        ca, cert, key = (options.get(name) for name in ("tls_ca", "tls_cert", "tls_key"))
        if not ca:
            if cert or key:
                raise BackendError("a TLS client certificate needs the CA (tls_ca) too")
            return None
        if bool(cert) != bool(key):
            raise BackendError("tls_cert and tls_key go together")
        return cls(_read(ca, "tls_ca"), _read(cert, "tls_cert") if cert else None,
                   _read(key, "tls_key") if key else None)

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=self.key,
                                            certificate_chain=self.cert)


def _read(path: str, option: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise BackendError(f"{option} {path}: cannot read it ({exc.strerror or exc})") from None


def open_channel(address: str, tls: Tls | None = None) -> grpc.Channel:
    if tls is None:
        return grpc.insecure_channel(address, options=_proto.channel_options())
    # The plaintext channels' fixed ":authority" (localhost) would also be the name TLS checks
    # the server's certificate against: over TLS the target's own host name is the authority.
    options = [option for option in _proto.channel_options()
               if option[0] != "grpc.default_authority" or address.startswith("unix:")]
    return grpc.secure_channel(address, tls.credentials(), options=options)
