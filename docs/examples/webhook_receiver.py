"""A receiver of UCJ Desa's webhooks, with Python's standard library only.

    WEBHOOK_SECRET=whsec_... python webhook_receiver.py 8080

It checks each request's signature (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`) and
its timestamp (at most five minutes off), skips a message it already processed (by `webhook-id`:
a change may come again after a retry or a re-send), answers 2xx quickly and only then does the
work. Keep the ids seen in your database in practice, not in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 5 * 60  # seconds a message's timestamp may be off from the clock


class Refused(Exception):
    """Not a genuine, fresh message."""


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> dict:
    """The CloudEvent in `body` if the headers sign it under `secret` (`whsec_...`); else `Refused`."""
    headers = {name.lower(): value for name, value in headers.items()}
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (message_id and timestamp.isdigit() and signatures):
        raise Refused("missing headers")
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE:
        raise Refused("timestamp too old or too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    # Several signatures, space-separated, while a rotated secret still signs too.
    if not any(hmac.compare_digest(expected, given) for given in signatures.split(" ")):
        raise Refused("no valid signature")
    return json.loads(body)


class Receiver(BaseHTTPRequestHandler):
    secret = os.environ.get("WEBHOOK_SECRET", "")
    seen: set[str] = set()  # webhook-ids processed: in your database in practice

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = verify(self.secret, dict(self.headers), body)
        except Refused as refused:
            self.send_response(401)
            self.end_headers()
            self.wfile.write(str(refused).encode())
            return
        message_id = self.headers["webhook-id"]
        if message_id not in self.seen:
            self.seen.add(message_id)
            self.process(event)
        self.send_response(204)
        self.end_headers()

    def process(self, event: dict) -> None:
        """Your work: here, print the change."""
        change = event["data"]
        print(event["type"], event["subject"], change["kind"], change["cursor"], flush=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
