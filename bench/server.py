"""The service under gunicorn on loopback, and a minimal HTTP client for it: shared by the scripts
that measure it (`bench/national_bench.py`) and probe its contract (`contract/live.py`).

Importing this module does not set Django up: the server is a child process with its own
environment (settings module, database, rate limits), given by the caller.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
REQUEST_TIMEOUT = 300.0


@dataclass
class Req:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Resp:
    status: int  # 0: no HTTP answer (connection refused, reset, timed out)
    seconds: float
    body: bytes
    headers: dict[str, str]


class Client:
    """One new loopback connection per request, with a token when given one (not with a session cookie)."""

    def __init__(self, port: int, token: str | None = None):
        self.port = port
        self.token = token

    def fetch(self, req: Req) -> Resp:
        headers = dict(req.headers)
        if self.token and "Authorization" not in headers and "Cookie" not in headers:  # a cookie: a portal page
            headers["Authorization"] = f"Token {self.token}"
        if req.body is not None:
            headers.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(req.method, req.path, body=req.body, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            return Resp(response.status, elapsed, body, {k.lower(): v for k, v in response.getheaders()})
        except (OSError, http.client.HTTPException) as exc:
            return Resp(0, time.perf_counter() - started, f"{type(exc).__name__}: {exc}".encode(), {})
        finally:
            conn.close()


def free_port(port: int = 0) -> int:
    """`port` if it is free on 127.0.0.1 (SystemExit if not), or a free one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As gunicorn binds: a port whose last connections are closing (TIME_WAIT) is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            # Else another server there would answer the health check in gunicorn's place.
            raise SystemExit(f"port {port} is taken: {exc}") from exc
        return sock.getsockname()[1]


class Gunicorn:
    """The service under gunicorn, 2 sync workers on 127.0.0.1; stopped by `stop()`.

    `env` is the server's whole environment; `args` are further gunicorn options; `port` is a
    free one unless given."""

    def __init__(self, env: Mapping[str, str], args: Sequence[str] = (), port: int | None = None):
        self.port = free_port(port or 0)
        # Kept open for the server's lifetime and closed by stop(): not a `with` block.
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ucj_project.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                *args,
            ],
            cwd=ROOT,
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def wait_ready(self) -> None:
        client = Client(self.port)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            resp = client.fetch(Req("GET", "/healthz"))
            if resp.status == 200:
                return
            last = f"{resp.status} {resp.body[:200].decode(errors='replace')}"
            time.sleep(0.2)
        print(f"gunicorn did not answer /healthz with 200 (last: {last or 'nothing'}); its stderr:", file=sys.stderr)
        print(self.errors()[-5000:], file=sys.stderr)
        raise SystemExit("gunicorn failed to start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()
