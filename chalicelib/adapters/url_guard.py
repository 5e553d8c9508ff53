"""SSRF guard for webhook URLs: only http(s) to public addresses, no credentials.

A URL is checked when an endpoint is registered and again before every delivery,
because DNS can change between the two. Delivery then connects to the address
that was checked (`CheckedUrl.addresses`), never to a fresh lookup, so a name
that re-resolves to a private address between check and connect is not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata services (AWS IPv4 and IPv6); 169.254.169.254 is also link-local.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class UnsafeUrlError(ValueError):
    """The URL is not one the gateway will send to; the message says why."""


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed the guard, with the addresses its host resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


def refusal_reason(address: IpAddress) -> str | None:
    """Why an address is refused, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal_reason(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    if not address.is_global:  # e.g. 100.64.0.0/10 shared address space
        return "not a public address"
    return None


def _parse(url: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UnsafeUrlError("url is not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrlError("url must use http or https")
    if not parts.hostname:
        raise UnsafeUrlError("url must name a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrlError("url must not contain credentials")
    if parts.fragment:
        raise UnsafeUrlError("url must not contain a fragment")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url.strip()):
        raise UnsafeUrlError("url must not contain spaces or control characters")
    return parts


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address the host resolves to (a literal IP resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeUrlError(f"url host '{host}' does not resolve") from exc
    addresses: list[IpAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrlError(f"url host '{host}' does not resolve")
    return addresses


def check_url(url: str, *, allow_private: bool) -> CheckedUrl:
    """Parse, resolve and vet a webhook URL; raises `UnsafeUrlError` with the reason.

    Every resolved address must be acceptable, not just the first: a name with one
    public and one private address is refused.
    """
    parts = _parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None:
                raise UnsafeUrlError(f"url host resolves to {reason}, which is not allowed")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return CheckedUrl(
        url=url.strip(),
        scheme=parts.scheme,
        host=host,
        port=port,
        path=path,
        addresses=tuple(str(a) for a in addresses),
    )
