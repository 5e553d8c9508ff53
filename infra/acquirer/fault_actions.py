"""How the acquirer applies a fault decision around one call (`faults.py` decides it).

The delay comes first; then `hang` never answers, `5xx_before` answers 500 without
acting (both give the key back), and the others act (the books' write) and then
answer 500 (`5xx_after`) or reset the connection (`reset_after`) instead of
delivering the answer.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

from aiohttp import web

from infra.acquirer.faults import Decision, Target, decide
from infra.acquirer.models import error

STATE = web.AppKey("state", dict)
FAULT_HEADER = "Acquirer-Fault"


async def _hang(request: web.Request) -> None:
    """Never answer: wait until the client gives up and closes the connection."""
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(0.25)


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) instead of an answer."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def with_faults(
    request: web.Request,
    target: Target,
    act: Callable[[], web.Response],
    release: Callable[[], None] = lambda: None,
) -> web.Response:
    """Delay, then apply the fault decided for this call around `act` (the books' write).

    `release` gives the call's key back when it ends without acting (`hang`,
    `5xx_before`). A client that goes away during the delay does not stop the request:
    it acts late, as a real acquirer's would (aiohttp does not cancel the handler).
    """
    state = request.app[STATE]
    try:
        decision: Decision = decide(
            state["faults"], target, request.headers.get(FAULT_HEADER), state["rng"]
        )
    except ValueError as exc:
        return error(400, "fault_invalid", str(exc))
    try:
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.mode == "hang":
            await _hang(request)
    except BaseException:  # cancelled with the connection: nothing was done
        release()
        raise
    if decision.mode == "hang":
        release()
        return web.Response(status=204)  # never delivered: the client has gone
    if decision.mode == "5xx_before":
        release()
        return error(500, "internal_error", "Injected failure before acting")
    response = act()
    if decision.mode == "5xx_after":
        return error(500, "internal_error", "Injected failure after acting")
    if decision.mode == "reset_after":
        _reset(request)
        return web.Response(status=204)  # never delivered: the connection is reset
    return response
