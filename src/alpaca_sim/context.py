"""Everything the aiohttp handlers share, stored on the app under SIM_CONTEXT."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from aiohttp import web

from alpaca_sim.faults import FaultInjector
from alpaca_sim.ratelimit import RateLimiter
from alpaca_sim.requestlog import RequestLog
from alpaca_sim.scenario import Scenario
from alpaca_sim.stream import StreamHub
from alpaca_sim.venue import Venue


@dataclass
class SimContext:
    venue: Venue
    faults: FaultInjector
    limiter: RateLimiter
    hub: StreamHub
    log: RequestLog
    api_key: str
    api_secret: str
    _request_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def credentials(self) -> tuple[str, str]:
        return self.api_key, self.api_secret

    def next_request_id(self) -> str:
        # Deterministic ids (a counter) keep runs reproducible; randomness is not needed here.
        return f"{next(self._request_numbers):032x}"

    def reset(self, scenario: Scenario, *, seed: int | None) -> None:
        """Back to a fresh scenario: venue, limiter, faults (stream ones too), request log."""
        self.venue.reset(scenario, seed=seed)
        self.limiter.reset(
            per_minute=scenario.rate_limit_per_min, enabled=scenario.rate_limit_enabled
        )
        self.faults.clear()
        self.hub.reset(scenario.stream_limit)
        self.log.clear()
        self.api_key = scenario.api_key
        self.api_secret = scenario.api_secret


SIM_CONTEXT: web.AppKey[SimContext] = web.AppKey("alpaca_sim_context", SimContext)
# POST /v2/orders stores the body's client_order_id here for the request log.
CLIENT_ORDER_ID: web.RequestKey[object] = web.RequestKey("alpaca_sim_client_order_id", object)
