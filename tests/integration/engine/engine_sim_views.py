"""What the simulator saw and holds, read straight from it (the ground truth the engine's
result is checked against)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alpaca_sim.server import SimServer
from plan_executor.domain.results import OrderResult

ORDERS_PATH = "/v2/orders"
SIM_WAIT_S = 30.0
"""Hang guard on awaiting what the sim does within milliseconds of its clock."""


@dataclass(frozen=True)
class Filled:
    qty: Decimal
    notional: Decimal

    @property
    def avg(self) -> Decimal | None:
        return self.notional / self.qty if self.qty else None


def sim_orders(sim: SimServer) -> list[dict[str, Any]]:
    """Every order the sim holds, oldest first, each with its fills."""
    orders: list[dict[str, Any]] = sim.venue.state()["orders"]  # type: ignore[assignment]
    return orders


def orders_of(sim: SimServer, symbol: str, side: str | None = None) -> list[dict[str, Any]]:
    return [
        order
        for order in sim_orders(sim)
        if order["symbol"] == symbol and (side is None or order["side"] == side)
    ]


def open_orders(sim: SimServer) -> list[dict[str, Any]]:
    return sim.venue.list_orders(status="open", limit=500)


def filled(orders: list[dict[str, Any]]) -> Filled:
    """Quantity and notional over the fills of `orders`, from the sim's executions."""
    qty = notional = Decimal(0)
    for order in orders:
        for fill in order["fills"]:
            qty += Decimal(fill["qty"])
            notional += Decimal(fill["qty"]) * Decimal(fill["price"])
    return Filled(qty, notional)


def positions(sim: SimServer) -> dict[str, Decimal]:
    return {str(p["symbol"]): Decimal(str(p["qty"])) for p in sim.venue.list_positions()}


def api_log(sim: SimServer, method: str | None = None, path: str = "") -> list[dict[str, Any]]:
    """The sim's request log, in arrival order, filtered by method and path prefix."""
    return [
        entry
        for entry in sim.context.log.entries()
        if (method is None or entry["method"] == method) and str(entry["path"]).startswith(path)
    ]


def posted_ids(sim: SimServer) -> list[str]:
    """client_order_id of every POST /v2/orders the sim received, whatever its answer."""
    return [str(e["client_order_id"]) for e in api_log(sim, "POST", ORDERS_PATH)]


def sent_twice(sim: SimServer) -> list[str]:
    return [cid for cid, count in Counter(posted_ids(sim)).items() if count > 1]


def placed_twice(sim: SimServer) -> list[str]:
    """Ids the sim accepted more than once, or refused as duplicates (both mean a resend of an
    order that had been placed)."""
    accepted = Counter(
        str(e["client_order_id"])
        for e in api_log(sim, "POST", ORDERS_PATH)
        if e["status"] == 200 or e["status"] == 422
    )
    return [cid for cid, count in accepted.items() if count > 1]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_result_matches_sim(sim: SimServer, result: OrderResult) -> None:
    """An item's reported children, quantities and prices are the sim's, order by order."""
    by_client_id = {order["client_order_id"]: order for order in sim_orders(sim)}
    children = [by_client_id[child.client_order_id] for child in result.child_orders]
    for child, order in zip(result.child_orders, children, strict=True):
        assert child.broker_order_id == order["id"]
        assert child.status.value == order["status"]
        assert child.filled_qty == Decimal(order["filled_qty"])
        assert child.qty == Decimal(order["qty"])
        assert child.limit_price == (
            None if order["limit_price"] is None else Decimal(order["limit_price"])
        )
    truth = filled(children)
    assert result.filled_qty == truth.qty
    if truth.avg is None:
        assert result.avg_fill_price is None
        assert result.filled_notional == 0
        return
    # The result rounds money for people (dollars to cents, prices to the tick, nearest); the
    # sim's truth is exact, and its order averages (what the engine reads) carry 10 decimals.
    assert result.avg_fill_price is not None
    tick = Decimal("0.01") if truth.avg >= 1 else Decimal("0.0001")
    assert result.avg_fill_price == result.avg_fill_price.quantize(tick)
    assert abs(result.avg_fill_price - truth.avg) <= tick / 2 + Decimal("1e-6")
    assert result.filled_notional == result.filled_notional.quantize(Decimal("0.01"))
    assert abs(result.filled_notional - truth.notional) <= Decimal("0.005") + Decimal("1e-4")


def sim_filled(sim: SimServer, result: OrderResult) -> Filled:
    """The sim's exact fills of `result`'s child orders."""
    by_client_id = {order["client_order_id"]: order for order in sim_orders(sim)}
    return filled([by_client_id[child.client_order_id] for child in result.child_orders])


async def until_sim(sim: SimServer, holds: Callable[[], bool]) -> None:
    """Wait (bounded by the hang guard) until `holds()` is true of the sim's state."""
    changed = asyncio.Event()
    unwatch = sim.venue.watch(changed.set)
    try:
        async with asyncio.timeout(SIM_WAIT_S):
            while not holds():
                changed.clear()
                await changed.wait()
    finally:
        unwatch()
