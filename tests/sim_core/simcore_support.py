"""Shared helpers for the alpaca_sim core tests."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from alpaca_sim import SimError, Venue, default_scenario
from alpaca_sim.decimals import Shares
from alpaca_sim.orders import OrderStatus, SimOrder

START = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
CLOSE = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def make_venue(seed: int = 7) -> Venue:
    return Venue(default_scenario(), seed=seed)


class Recorder:
    """A subscriber that keeps every trade update it is given."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def __call__(self, update: Mapping[str, object]) -> None:
        self.updates.append(dict(update))

    def events(self, order_id: str | None = None) -> list[str]:
        return [
            u["event"] for u in self.updates if order_id is None or u["order"]["id"] == order_id
        ]

    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        return [u for u in self.updates if u["order"]["id"] == order_id]


def recorded(venue: Venue) -> Recorder:
    recorder = Recorder()
    venue.subscribe(recorder)
    return recorder


def order_body(symbol: str, side: str, qty: object = None, **extra: object) -> dict[str, object]:
    """A POST /v2/orders body: a DAY market order unless `extra` says otherwise."""
    body: dict[str, object] = {
        "symbol": symbol,
        "side": side,
        "type": "market",
        "time_in_force": "day",
    }
    if qty is not None:
        body["qty"] = qty
    body.update(extra)
    return body


def limit(symbol: str, side: str, qty: object, price: object, **extra: object) -> dict[str, object]:
    return order_body(symbol, side, qty, **{"type": "limit", "limit_price": price, **extra})


def market(symbol: str, side: str, qty: object, **extra: object) -> dict[str, object]:
    return order_body(symbol, side, qty, **extra)


def refused(call: Callable[[], object]) -> SimError:
    with pytest.raises(SimError) as caught:
        call()
    return caught.value


def step(venue: Venue, seconds: float = 1.0) -> None:
    """Advance the simulated clock and let the venue catch up."""
    venue.clock.advance(seconds)
    venue.tick()


def settle(venue: Venue, order_id: str, *, steps: int = 30) -> dict[str, object]:
    """Step the clock a market step at a time until the order is done (a paper partial fill
    leaves the rest working until a later step) or `steps` have passed; the order as it is."""
    for _ in range(steps):
        order = venue.get_order(order_id)
        if order["status"] in {"filled", "canceled", "expired", "rejected", "replaced"}:
            return order
        step(venue)
    return venue.get_order(order_id)


def order_in(status: OrderStatus) -> SimOrder:
    """A bare 10-share limit buy record in `status`, for table-level tests."""
    return SimOrder(
        id="00000000-0000-4000-8000-000000000001",
        seq=1,
        client_order_id="c1",
        symbol="AAPL",
        asset_id="a",
        side="buy",
        order_type="limit",
        time_in_force="day",
        qty=Shares(Decimal(10)),
        notional=None,
        limit_price=None,
        collar_price=None,
        extended_hours=False,
        created_at=AT,
        status=status,
    )
