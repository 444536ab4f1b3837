"""A plan of many items against alpaca_sim: a scenario with that many symbols, the plan's event,
and the broker requests the guard phase made, as the sim logged them when the phase ended."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from service_support import SimThread

from alpaca_sim.scenario import Scenario, scenario_from_dict
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind

HELD_QTY = Decimal(20)
GUARD_PATHS = ("/v2/clock", "/v2/account")
ASSETS_LISTING = "/v2/assets"


def synthetic_symbols(count: int) -> list[str]:
    """`count` symbols the default scenario does not have (L000, L001, ...)."""
    return [f"L{index:03d}" for index in range(count)]


def with_symbols(base: Scenario, symbols: Sequence[str]) -> Scenario:
    """`base` with `symbols` added: liquid, fractionable, each held (HELD_QTY shares)."""
    specs = {
        symbol: {"price": str(20 + index % 80), "spread_bps": "4", "size": 500}
        for index, symbol in enumerate(symbols)
    }
    held = {symbol: {"qty": str(HELD_QTY), "avg_entry_price": "30"} for symbol in symbols}
    clock = {"start": base.clock.start.isoformat()}  # to parse; the merge keeps base's clock
    extra = scenario_from_dict({"symbols": specs, "positions": held, "clock": clock})
    return replace(
        base,
        positions={**base.positions, **extra.positions},
        assets={**base.assets, **extra.assets},
        prices={**base.prices, **extra.prices},
        spreads={**base.spreads, **extra.spreads},
        volatility={**base.volatility, **extra.volatility},
        sizes={**base.sizes, **extra.sizes},
    )


def plan_event(
    template: Mapping[str, Any], plan_id: str, symbols: Sequence[str], *, dollars: str = "60.00"
) -> dict[str, Any]:
    """`template` (a saved event) carrying one item per symbol: the first half sells `dollars`
    of a holding, the rest buys `dollars`."""
    event = copy.deepcopy(dict(template))
    plan = event["detail"]["rebalance_plan"]
    plan["plan_id"] = plan_id
    half = len(symbols) // 2
    plan["items"] = [
        _item(symbol, "SELL" if index < half else "BUY", dollars)
        for index, symbol in enumerate(symbols)
    ]
    return event


def _item(symbol: str, action: str, dollars: str) -> dict[str, Any]:
    sign = "-" if action == "SELL" else ""
    return {
        "symbol": symbol,
        "action": action,
        "trade_amount": f"{sign}{dollars}",
        "current_weight": "0.01",
        "target_weight": "0.005" if action == "SELL" else "0.015",
        "weight_diff": "-0.005" if action == "SELL" else "0.005",
        "current_value": "600.00",
        "target_value": "540.00" if action == "SELL" else "660.00",
        "priority": 3,
    }


@dataclass
class GuardPhaseLog:
    """A progress callback: when the guard phase ends, it keeps the sim's request log as it is
    then (the sim logs a request before answering it, so every guard read is in it), then
    passes the event on."""

    sim: SimThread
    forward: Callable[[ProgressEvent], None]
    at_end: list[dict[str, object]] | None = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind is ProgressKind.PHASE_ENDED and event.phase is Phase.GUARDS:
            self.at_end = self.sim.call(lambda server: server.context.log.entries())
        self.forward(event)

    def guard_reads(self) -> list[dict[str, object]]:
        """The requests for the guards' data (clock, account, assets) made by the time the guard
        phase ended; the early reads made alongside them (orders, positions, quotes) are left
        out."""
        if self.at_end is None:
            raise AssertionError("the guard phase never ended")
        return [entry for entry in self.at_end if is_guard_read(entry)]


def is_guard_read(entry: Mapping[str, object]) -> bool:
    path = str(entry["path"])
    return entry["method"] == "GET" and (path in GUARD_PATHS or path.startswith(ASSETS_LISTING))
