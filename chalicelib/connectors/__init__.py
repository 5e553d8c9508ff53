"""Acquirer connectors (adapters for the outside acquirers) and the one this stage uses."""

from __future__ import annotations

from chalicelib.connectors.base import Connector

_connector: Connector | None = None


def get_connector() -> Connector:
    """The connector for this deployment (the test-mode simulator for now)."""
    global _connector
    if _connector is None:
        from chalicelib.connectors.simulator import SimulatorConnector

        _connector = SimulatorConnector()
    return _connector


_by_name: dict[str, Connector] = {}


def get_connector_by_name(name: str) -> Connector:
    """A connector by its name: `simulator`, or `acquirer` (the HTTP one at ACQUIRER_URL)."""
    found = _by_name.get(name)
    if found is not None:
        return found
    if name == "simulator":
        from chalicelib.connectors.simulator import SimulatorConnector

        found = SimulatorConnector()
    elif name == "acquirer":
        from chalicelib import settings
        from chalicelib.connectors.acquirer import AcquirerConnector

        config = settings.get_settings()
        if not config.acquirer_url:
            raise RuntimeError("ACQUIRER_URL is not set: the acquirer connector has no address")
        found = AcquirerConnector(
            config.acquirer_url,
            deadline_s=config.acquirer_deadline_s,
            concurrency=config.acquirer_concurrency,
            report_deadline_s=config.acquirer_report_deadline_s,
        )
    else:
        raise ValueError(f"no connector named {name!r}")
    return _by_name.setdefault(name, found)
