"""Webhook secrets and signatures, by the Standard Webhooks scheme (the spec is the contract):
a secret is `whsec_` + base64 of random bytes; a message is signed with HMAC-SHA256 of the
secret's bytes over `{webhook-id}.{webhook-timestamp}.{body}`, sent as `v1,` + base64 of the
digest in `webhook-signature`, several signatures separated by spaces."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_new() -> str:
    """A fresh secret, as the receiver keeps it."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `message_id.timestamp.body` under `secret`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one signature per secret (the new one first), space-separated."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_)
