"""SSRF guard for webhook URLs: only http(s) to public addresses, no credentials.

A URL is checked when an endpoint is registered and again before every delivery,
because DNS can change between the two. Delivery then connects to the address
that was checked (`CheckedUrl.addresses`), never to a fresh lookup, so a name
that re-resolves to a private address between check and connect is not followed.

Every refusal carries the same message (`REFUSED_MESSAGE`): a merchant who
registers `http://billing.internal/` must not learn whether that name resolves,
to what kind of address, or whether the lookup timed out. The precise reason is
kept on the exception (`reason`) for our own logs, never for the answer.

IPv6 transition addresses carry an IPv4 address that the network delivers to:
IPv4-mapped (::ffff:0:0/96), 6to4 (2002::/16), Teredo (2001::/32) and NAT64
(64:ff9b::/96). Each is judged by the IPv4 address it embeds.

Name resolution has a deadline (`RESOLVE_TIMEOUT_S`): `getaddrinfo` has none of
its own, so it runs on a small pool and is abandoned when late.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata services (AWS IPv4 and IPv6); 169.254.169.254 is also link-local.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


REFUSED_MESSAGE = (
    "url must be an http or https URL, without credentials or fragment, whose host "
    "resolves only to public addresses"
)
RESOLVE_TIMEOUT_S = 2.0
# Lookups that outlive their deadline keep a thread until the resolver gives up; the
# pool bounds how many can, and later lookups wait in its queue within their deadline.
_RESOLVER_THREADS = 4
_resolver: ThreadPoolExecutor | None = None

NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: never global


class UnsafeUrlError(ValueError):
    """The URL is not one the gateway will send to.

    `str(exc)` is always `REFUSED_MESSAGE`, safe to show; `reason` says why, for logs.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED_MESSAGE)
        self.reason = reason


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed the guard, with the addresses its host resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 transition address delivers to (empty for none)."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return [server, client]
    if address in NAT64_WELL_KNOWN:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def refusal_reason(address: IpAddress) -> str | None:
    """Why an address is refused, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        embedded = embedded_ipv4(address)
        if embedded:
            # The IPv6 prefixes themselves are classed special-purpose by the stdlib;
            # what the network reaches is the IPv4 address inside.
            for inner in embedded:
                reason = refusal_reason(inner)
                if reason is not None:
                    return f"{reason} embedded in {address}"
            return None
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


#: Only what is not ASCII gets escaped: an ASCII URL is stored exactly as given (and a
#: space or control character in it is still refused by the checks that follow).
_ASCII = "".join(chr(c) for c in range(128))


def normalise_url(url: str) -> str:
    """The URL as it goes on the wire: the host in IDNA (ASCII), what is not ASCII in
    the path and query percent-encoded as UTF-8. http.client encodes the request line
    as ASCII, so a URL stored in any other form could never be sent. Raises
    `UnsafeUrlError` when the URL has no such form (a host IDNA refuses, a lone
    surrogate)."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
        if not netloc.isascii() and "@" not in netloc and not netloc.startswith("["):
            ascii_host = (parts.hostname or "").encode("idna").decode("ascii")
            netloc = ascii_host + (f":{parts.port}" if parts.port is not None else "")
        if url.isascii():
            return url.strip()
        path = quote(parts.path, safe=_ASCII)
        query = quote(parts.query, safe=_ASCII)
        return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))
    except (UnicodeError, ValueError) as exc:
        raise UnsafeUrlError("url has no ASCII form (IDNA host, percent-encoded path)") from exc


def _lookup(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _resolver_pool() -> ThreadPoolExecutor:
    global _resolver
    if _resolver is None:
        _resolver = ThreadPoolExecutor(_RESOLVER_THREADS, thread_name_prefix="resolve")
    return _resolver


def resolve(host: str, port: int, timeout_s: float = RESOLVE_TIMEOUT_S) -> list[IpAddress]:
    """Every address the host resolves to (a literal IP resolves to itself), within a deadline."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    future = _resolver_pool().submit(_lookup, host, port)
    try:
        infos = future.result(timeout=timeout_s)
    except FutureTimeoutError as exc:
        future.cancel()  # a lookup still queued never runs
        raise UnsafeUrlError(f"resolving '{host}' took over {timeout_s} s") from exc
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeUrlError(f"'{host}' does not resolve") from exc
    addresses: list[IpAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrlError(f"'{host}' does not resolve")
    return addresses


def check_url(
    url: str, *, allow_private: bool, resolve_timeout_s: float = RESOLVE_TIMEOUT_S
) -> CheckedUrl:
    """Parse, resolve and vet a webhook URL; raises `UnsafeUrlError` (one message for all).

    Every resolved address must be acceptable, not just the first: a name with one
    public and one private address is refused.
    """
    parts = _parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port, resolve_timeout_s)
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
