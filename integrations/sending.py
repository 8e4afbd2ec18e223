"""One webhook request: POST a body to a checked address, connecting to the address the check
resolved (integrations.addresses), with a timeout, following no redirect, reading at most the
first kilobyte of the answer. Whatever goes wrong is an outcome, never an exception."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from .addresses import AddressRefused, addresses_resolved, url_parts
from .choices import DeliveryError

RESPONSE_KEPT = 1024  # bytes of the receiver's answer kept in the delivery log


@dataclass(frozen=True)
class Sent:
    """What came of one request: the status (None: no answer), why it failed, the answer's first
    kilobyte (as text), how long it took."""

    status: int | None
    error: str
    body: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to `ip` for a request to `host` (its Host header)."""

    def __init__(self, host: str, port: int, ip: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self.ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked for `host` (SNI too), the socket goes to `ip`."""

    def __init__(self, host: str, port: int, ip: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self.ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _error_of(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return DeliveryError.TIMEOUT
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return DeliveryError.TLS
    if isinstance(exc, ConnectionRefusedError):
        return DeliveryError.REFUSED
    return DeliveryError.CONNECTION


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Sent:
    """POST `body` to `url`; the outcome (see `Sent`)."""
    started = time.monotonic()

    def sent(status: int | None, error: str, text: str = "") -> Sent:
        return Sent(status, error, text, int((time.monotonic() - started) * 1000))

    try:
        parts = url_parts(url)
        addresses = addresses_resolved(parts)
    except AddressRefused as refused:
        return sent(None, DeliveryError.DNS if refused.code == "dns" else DeliveryError.ADDRESS)
    host = parts.hostname or ""
    ip, port = addresses[0]
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(host, port, ip, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_KEPT).decode("utf-8", errors="replace")
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return sent(None, _error_of(exc))
    finally:
        connection.close()
    return sent(status, "" if 200 <= status < 300 else DeliveryError.STATUS, text)
