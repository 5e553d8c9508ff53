"""The payment processor interface and the processor this stage uses."""

from __future__ import annotations

from chalicelib.processor.base import Processor

_processor: Processor | None = None


def get_processor() -> Processor:
    """The processor for this deployment (the simulated one in every stage for now)."""
    global _processor
    if _processor is None:
        from chalicelib.processor.simulated import SimulatedProcessor

        _processor = SimulatedProcessor()
    return _processor
