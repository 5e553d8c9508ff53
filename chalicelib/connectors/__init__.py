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
