"""Where webhooks may be sent: http(s) addresses without credentials that resolve to public
networks only, so that a subscription cannot make the server call its own network (SSRF). The
address is checked when a subscription is written and again, resolved anew, at every delivery,
which connects to the address it checked (integrations.sending): a name that changes its
address between the check and the connection (DNS rebinding) reaches nothing private.

`UCJ_WEBHOOK_ALLOW_HTTP` lets plain http through (tests, development), `UCJ_WEBHOOK_ALLOW_PRIVATE`
private, loopback and link-local addresses (a receiver on the same machine)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(ValueError):
    """An address webhooks may not be sent to; `code` says why (`dns`: the name did not resolve)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def url_parts(url: str) -> SplitResult:
    """The address split, or `AddressRefused` for a scheme other than https (http where allowed),
    credentials in it, or no host."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.UCJ_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        message = _("The address must start with %(schemes)s.") % {
            "schemes": " or ".join(f"{scheme}://" for scheme in sorted(allowed, reverse=True))
        }
        raise AddressRefused(message, "scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise AddressRefused(
            _("The address may not hold a user name or password: authenticate the signature instead."), "credentials"
        )
    if not parts.hostname:
        raise AddressRefused(_("The address has no host."), "host")
    try:
        parts.port  # noqa: B018 (a port out of range raises)
    except ValueError:
        raise AddressRefused(_("The address's port is not valid."), "port") from None
    return parts


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried in an IPv6 one (mapped, 6to4, Teredo) is judged as itself.
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(v4 is not None and not _public(str(v4)) for v4 in embedded):
            return False
    return ip.is_global and not ip.is_multicast


def addresses_resolved(parts: SplitResult) -> list[tuple[str, int]]:
    """The addresses (ip, port) the host of `parts` resolves to, every one of them allowed, or
    `AddressRefused`."""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(_("The address's host name does not resolve."), "dns") from None
    found: list[tuple[str, int]] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = str(sockaddr[0])
        if (ip, port) not in found:
            found.append((ip, port))
    if not settings.UCJ_WEBHOOK_ALLOW_PRIVATE and not all(_public(ip) for ip, _port in found):
        raise AddressRefused(
            _("The address resolves to a private, loopback or link-local network; webhooks go to public addresses."),
            "private",
        )
    return found


def url_check(url: str) -> None:
    """Refuse an address webhooks may not be sent to (`AddressRefused`)."""
    addresses_resolved(url_parts(url))
