"""Moving a SimServer's manual clock from a test: past the venue's drawn delays, or on by market
steps (the emulator's `settle` fixture does the first through the control API)."""

from __future__ import annotations

from alpaca_sim import default_scenario
from alpaca_sim.server import SimServer

SETTLE_SECONDS = default_scenario().latency.longest.total_seconds()
"""The longest ack plus execution delay the default scenario draws for an order."""


def settle_server(server: SimServer) -> None:
    """Move the server's manual clock past the venue's acknowledgement and execution delays:
    what was sent has been acknowledged, and executed or canceled as far as the market allows
    (as Alpaca does some milliseconds after answering)."""
    server.venue.clock.advance(SETTLE_SECONDS)
    server.venue.tick()


def step_server(server: SimServer, seconds: float = 1.0) -> None:
    """Move the server's manual clock on by `seconds` (default: one market step)."""
    server.venue.clock.advance(seconds)
    server.venue.tick()
