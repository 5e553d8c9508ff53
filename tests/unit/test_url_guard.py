"""The SSRF guard's name resolution has a deadline, and says nothing about why it refused."""

from __future__ import annotations

import ipaddress
import threading

import pytest

from chalicelib.adapters import url_guard
from chalicelib.adapters.url_guard import REFUSED_MESSAGE, UnsafeUrlError, check_url


def test_a_resolver_that_never_answers_is_abandoned_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    called = threading.Event()
    answered = threading.Event()

    def hanging_lookup(host: str, port: int) -> list:
        called.set()
        release.wait(60)  # a resolver that does not answer (getaddrinfo has no timeout)
        answered.set()
        return []

    monkeypatch.setattr(url_guard, "_lookup", hanging_lookup)
    try:
        with pytest.raises(UnsafeUrlError) as refused:
            check_url("https://slow.example/hook", allow_private=False, resolve_timeout_s=0.5)
        # The refusal came while the resolver still had not answered: it was not waited on.
        assert called.is_set() and not answered.is_set()
    finally:
        release.set()
    assert "took over" in refused.value.reason
    assert str(refused.value) == REFUSED_MESSAGE  # the same as for any other refusal


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("2002:7f00:1::1", "127.0.0.1"),
        ("2001:0:5db8:d70e:0:ffff:3f57:fefe", "192.168.1.1"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ],
)
def test_transition_addresses_are_judged_by_their_ipv4(address: str, embedded: str) -> None:
    ip = ipaddress.IPv6Address(address)
    assert ipaddress.IPv4Address(embedded) in url_guard.embedded_ipv4(ip)
    assert url_guard.refusal_reason(ip) is not None
