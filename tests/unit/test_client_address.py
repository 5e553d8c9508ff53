"""Issue 24, item 2: whose address a failed key is counted against."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from chalicelib import settings
from chalicelib.api.auth import client_address


def request(peer: str, forwarded: str | None = None) -> SimpleNamespace:
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    return SimpleNamespace(context={"identity": {"sourceIp": peer}}, headers=headers)


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


def test_the_peer_without_trusted_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    settings.reset_settings()
    # API Gateway: sourceIp is the client; a header the client wrote is not believed.
    assert client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    assert client_address(request("203.0.113.9")) == "203.0.113.9"
    settings.reset_settings()


def test_forwarded_for_only_from_a_trusted_proxy(trusted: None) -> None:
    assert client_address(request("10.1.2.3", "198.51.100.1")) == "198.51.100.1"
    # The right-most hop that is not a trusted proxy: what the client wrote is left of it.
    assert client_address(request("10.1.2.3", "1.1.1.1, 198.51.100.1, 10.9.9.9")) == (
        "198.51.100.1"
    )
    assert client_address(request("192.0.2.7", "198.51.100.2")) == "198.51.100.2"
    # A peer that is not trusted: its header is ignored.
    assert client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    # A trusted proxy without the header, or with garbage in it: the proxy itself.
    assert client_address(request("10.1.2.3")) == "10.1.2.3"
    assert client_address(request("10.1.2.3", "not-an-address")) == "10.1.2.3"


def test_a_bad_trusted_proxies_entry_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    settings.reset_settings()
    with pytest.raises(ValueError):
        settings.get_settings()
    monkeypatch.undo()
    settings.reset_settings()
