"""The HTTP acquirer connector: flows (the calls) and wire (formats and outcome mapping)."""

from chalicelib.connectors.acquirer.flows import AcquirerConnector

__all__ = ["AcquirerConnector"]
