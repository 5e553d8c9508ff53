"""Acquirer connectors (adapters for the outside acquirers), by name.

`simulator` is the in-process test-mode acquirer. Every other name is an HTTP
acquirer whose base URL is given in `ACQUIRER_URLS` (`{"name": "http://..."}`).
Which connector a payment goes to is the router's choice (`connectors.routing`).
"""

from __future__ import annotations

import threading

from chalicelib.connectors.base import Connector

SIMULATOR = "simulator"

_lock = threading.Lock()
_connectors: dict[str, Connector] = {}


class UnknownConnectorError(LookupError):
    """A payment or setting names a connector this deployment does not configure."""


def get_connector(name: str = SIMULATOR) -> Connector:
    """The connector of that name, built on first use and kept for the process."""
    connector = _connectors.get(name)
    if connector is not None:
        return connector
    with _lock:
        if name not in _connectors:
            _connectors[name] = _build(name)
        return _connectors[name]


def register(name: str, connector: Connector) -> None:
    """Make `connector` the one of that name in this process (tests, benchmarks, and
    deployments that build connectors in code rather than from settings)."""
    with _lock:
        _connectors[name] = connector


def registered() -> list[str]:
    """The names of the connectors built or registered in this process."""
    return list(_connectors)


def _build(name: str) -> Connector:
    if name == SIMULATOR:
        from chalicelib.connectors.simulator import SimulatorConnector

        return SimulatorConnector()
    from chalicelib import settings

    cfg = settings.get_settings()
    url = cfg.acquirer_urls.get(name)
    if not url:
        raise UnknownConnectorError(f"connector {name!r} has no URL in ACQUIRER_URLS")
    from chalicelib.connectors.acquirer import AcquirerConnector

    return AcquirerConnector(
        url,
        name=name,
        deadline_s=cfg.acquirer_deadline_s,
        concurrency=cfg.acquirer_concurrency,
        report_deadline_s=cfg.acquirer_report_deadline_s,
    )
