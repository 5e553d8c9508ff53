"""Fault injection for the acquirer: per request (a header) or global (the admin endpoint).

Modes, each decided per call:
  5xx_before   answer 500 without acting (nothing charged)
  5xx_after    act (charge/refund recorded), then answer 500
  reset_after  act, then reset the TCP connection (RST) instead of answering
  hang         never answer (the request waits until the client goes away)
Latency has a long tail: lognormal with a given median and p99.
"Down" is not a per-call mode: the listener closes for N seconds (see server.py).

The per-request header `Acquirer-Fault` names one mode and optionally a latency:
  Acquirer-Fault: 5xx_after
  Acquirer-Fault: latency=300/2000            (median/p99 in ms)
  Acquirer-Fault: hang; latency=50/50
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["5xx_before", "5xx_after", "reset_after", "hang"]
Target = Literal["authorize", "refund", "inquiry", "void", "capture"]
MODES: tuple[Mode, ...] = ("5xx_before", "5xx_after", "reset_after", "hang")
#: the standard normal's 99th percentile
Z99 = 2.3263478740408408


class Latency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    median_ms: float = Field(ge=0, le=600_000)
    p99_ms: float = Field(ge=0, le=600_000)

    @model_validator(mode="after")
    def _tail_not_below_median(self) -> Latency:
        if self.p99_ms < self.median_ms:
            raise ValueError("p99_ms must be at least median_ms")
        return self

    def sample_s(self, rng: random.Random) -> float:
        """One delay: median * exp(sigma * Z), sigma chosen so the p99 is p99_ms."""
        if self.median_ms <= 0:
            return 0.0
        sigma = math.log(self.p99_ms / self.median_ms) / Z99 if self.p99_ms else 0.0
        return self.median_ms * math.exp(sigma * rng.gauss(0.0, 1.0)) / 1000


class FaultConfig(BaseModel):
    """The global faults: a latency, and a rate (0..1) per mode for the targeted calls."""

    model_config = ConfigDict(extra="forbid")
    latency: Latency | None = None
    rates: dict[Mode, float] = Field(default_factory=dict)
    targets: list[Target] = Field(default_factory=lambda: ["authorize", "refund"])

    @model_validator(mode="after")
    def _rates_in_range(self) -> FaultConfig:
        for mode, rate in self.rates.items():
            if not 0 <= rate <= 1:
                raise ValueError(f"rate of {mode} must be between 0 and 1")
        if sum(self.rates.values()) > 1:
            raise ValueError("the rates add up to more than 1")
        return self


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one call (a plain dataclass: one is made per call)."""

    delay_s: float = 0.0
    mode: Mode | None = None


def parse_header(value: str) -> tuple[Mode | None, Latency | None]:
    """`Acquirer-Fault` -> (mode, latency); ValueError on anything else."""
    mode: Mode | None = None
    latency: Latency | None = None
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        if part.startswith("latency="):
            median, _, p99 = part.removeprefix("latency=").partition("/")
            try:
                latency = Latency(median_ms=float(median), p99_ms=float(p99 or median))
            except ValueError as exc:
                raise ValueError(f"bad latency {part!r}: use latency=MEDIAN_MS/P99_MS") from exc
        elif part in MODES:
            mode = part  # type: ignore[assignment]
        else:
            raise ValueError(f"unknown fault {part!r}; modes are {', '.join(MODES)}")
    return mode, latency


def decide(config: FaultConfig, target: Target, header: str | None, rng: random.Random) -> Decision:
    """The fault for one call: the header's, else one drawn from the global rates."""
    mode: Mode | None = None
    # The global latency, like the rates, applies only to the targeted calls.
    latency = config.latency if target in config.targets else None
    if header:
        mode, header_latency = parse_header(header)
        latency = header_latency or latency
    elif target in config.targets and config.rates:
        draw, cumulative = rng.random(), 0.0
        for candidate, rate in config.rates.items():
            cumulative += rate
            if draw < cumulative:
                mode = candidate
                break
    return Decision(delay_s=latency.sample_s(rng) if latency else 0.0, mode=mode)
