"""Round trips to PostgreSQL, measured on the wire: a connection goes through a proxy that holds
back everything the client sends by DELAY, so each round trip costs DELAY and the time an action
takes, divided by DELAY, is the number of its round trips."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from collections import deque

import pytest
from django.db import connection

DELAY = 0.1  # seconds, far above what the transition computes (a few milliseconds)


class DelayingProxy:
    """Forwards a TCP connection to the database, each chunk the client sends DELAY after it came:
    chunks sent together (a pipeline) stay together, so a round trip costs DELAY once."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            queue: deque[tuple[float, bytes]] = deque()
            ready = threading.Condition()
            threading.Thread(target=self._read, args=(client, queue, ready), daemon=True).start()
            threading.Thread(target=self._send_late, args=(server, queue, ready), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    @staticmethod
    def _read(source: socket.socket, queue: deque, ready: threading.Condition) -> None:
        while chunk := source.recv(65536):
            with ready:
                queue.append((time.monotonic() + DELAY, chunk))
                ready.notify()
        with ready:
            queue.append((0.0, b""))
            ready.notify()

    @staticmethod
    def _send_late(target: socket.socket, queue: deque, ready: threading.Condition) -> None:
        while True:
            with ready:
                while not queue:
                    ready.wait()
                due, chunk = queue.popleft()
            if not chunk:
                target.close()
                return
            time.sleep(max(0.0, due - time.monotonic()))
            target.sendall(chunk)

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            target.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def through_proxy():
    """A function that reconnects the test's connection through a `DelayingProxy`."""
    settings = connection.settings_dict
    host, port = settings["HOST"], settings["PORT"]
    proxies = []

    def reconnect() -> None:
        proxy = DelayingProxy(host or "127.0.0.1", int(port or 5432))
        proxies.append(proxy)
        connection.close()
        settings["HOST"], settings["PORT"] = "127.0.0.1", str(proxy.port)

    yield reconnect
    connection.close()
    settings["HOST"], settings["PORT"] = host, port
    for proxy in proxies:
        proxy.close()


def round_trips(action, monkeypatch) -> tuple[float, list[str]]:
    """The round trips `action` takes, and where the client waited (for the failure's message)."""
    import psycopg

    waited: list[str] = []
    wait = getattr(psycopg.Connection.wait, "unpatched", psycopg.Connection.wait)

    def timed(self, gen, *args, **kwargs):
        started = time.monotonic()
        try:
            return wait(self, gen, *args, **kwargs)
        finally:
            took = (time.monotonic() - started) / DELAY
            if took > 0.5:
                frames = [f"{f.name}:{f.lineno}" for f in traceback.extract_stack()[-12:-1]]
                waited.append(f"{took:.1f} " + " < ".join(reversed(frames)))

    timed.unpatched = wait  # type: ignore[attr-defined]
    monkeypatch.setattr(psycopg.Connection, "wait", timed)
    started = time.monotonic()
    action()
    return (time.monotonic() - started) / DELAY, waited
