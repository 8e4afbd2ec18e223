"""A webhook receiver for the tests: a real HTTP server on loopback (a random port) in a thread,
keeping every request it got (headers, body bytes, when) and answering as a test scripts it: a
status, or a sleep first (past the sender's timeout). And the workers' poll, as a test runs it."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from enrollment.models import EnrollmentEvent
from integrations.selectors import feed_end
from integrations.services import subscriptions_due, subscriptions_poll

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "webhook_receiver.py"


def readme_example():
    """docs/examples/webhook_receiver.py (the README's receiver) as a module."""
    spec = importlib.util.spec_from_file_location("webhook_receiver", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Got:
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int = 0


@dataclass
class Answer:
    status: int = 204
    sleep: float = 0.0
    body: bytes = b""


@dataclass
class Receiver:
    url: str = ""
    got: list[Got] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)  # the next answers; then `default`
    default: Answer = field(default_factory=Answer)
    busy: int = 0  # requests being answered now
    most_busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ids(self) -> list[str]:
        return [got.headers["webhook-id"] for got in self.got]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.busy += 1
                receiver.most_busy = max(receiver.most_busy, receiver.busy)
                got = Got(dict(self.headers), body, time.monotonic())
                receiver.got.append(got)
                answer = receiver.script.pop(0) if receiver.script else receiver.default
            try:
                if answer.sleep:
                    time.sleep(answer.sleep)
                got.answered = answer.status
                self.send_response(answer.status)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # the sender gave up waiting
            finally:
                with receiver.lock:
                    receiver.busy -= 1

        def log_message(self, format, *args):  # noqa: A002
            pass

    return Handler


def receiver_running(
    handler: type[BaseHTTPRequestHandler] | None = None,
) -> Iterator[tuple[Receiver, ThreadingHTTPServer]]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler or _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ucj"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, server
    finally:
        server.shutdown()
        server.server_close()


def _held_back() -> bool:
    """Whether the feed holds changes back now (PostgreSQL: a transaction that may still commit an
    earlier change is open, or seemed to be when the feed looked, in another database of the
    server too: core.commit_order)."""
    last = EnrollmentEvent.objects.order_by("-xact", "-id").values_list("xact", "id").first()
    return last is not None and tuple(feed_end()[:2]) < last


def deliver_due() -> list[int]:
    """What the workers' poll does, every second: queue a delivery job per subscription with changes
    to send (the test settings' immediate backend runs each at once); polled again, as the workers
    do, while the feed holds changes back or a subscription is still due (at most a few seconds).
    The subscriptions queued."""
    queued: list[int] = []
    for _round in range(100):
        queued += subscriptions_poll()
        if not _held_back() and not subscriptions_due().exists():
            break
        time.sleep(0.05)
    return sorted(set(queued))
