"""The engine against the simulator's account rules: the $1 minimum on whole shares, a margin
account (nothing borrowed unless allowed), and the legacy pattern day trader refusal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from engine_sim_views import ORDERS_PATH, api_log, orders_of, sent_twice
from engine_support import (
    SEED,
    EngineHarness,
    fast_settings,
    full_exit,
    item,
    plan_detail,
    plan_time,
)

from alpaca_sim import SimError, scenario_from_dict
from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ExecutionStatus, ItemStatus

LEGACY_START = "2026-06-02T14:45:00Z"  # before Alpaca retired the PDT rule (2026-07-06)


@asynccontextmanager
async def sim_with(edit: Callable[[dict[str, Any]], None]) -> AsyncIterator[SimServer]:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    edit(data)
    async with SimServer(scenario_from_dict(data), seed=SEED, speed=1.0) as server:
        yield server


def market_order(symbol: str, side: str, qty: str) -> dict[str, object]:
    return {"symbol": symbol, "side": side, "type": "market", "time_in_force": "day", "qty": qty}


def cash_of(sim: SimServer) -> Decimal:
    return Decimal(str(sim.venue.account()["cash"]))


async def test_a_whole_share_exit_worth_under_a_dollar_is_skipped_not_sent() -> None:
    def two_pnny(data: dict[str, Any]) -> None:
        data["positions"]["PNNY"] = {"qty": "2", "avg_entry_price": "0.50"}

    async with sim_with(two_pnny) as sim:
        with pytest.raises(SimError, match="minimal amount of order 1"):
            sim.venue.submit_order(
                {
                    "symbol": "PNNY",
                    "side": "sell",
                    "type": "market",
                    "time_in_force": "day",
                    "qty": "2",
                }
            )  # what sending it would have met
        outcome = await EngineHarness(sim).run(
            plan_detail([full_exit("PNNY", "1"), item("MSFT", "BUY", "1000")], plan_time(sim))
        )

    pnny = next(o for o in outcome.result.orders if o.symbol == "PNNY")
    assert pnny.status is ItemStatus.SKIPPED
    assert pnny.reason is not None
    assert pnny.reason.startswith("below_min_notional")
    assert pnny.child_orders == ()
    assert orders_of(sim, "PNNY") == []
    assert outcome.result.status is ExecutionStatus.SUCCESS_WITH_SKIPS


@pytest.mark.parametrize("allow_margin", [False, True])
async def test_a_margin_account_buys_with_cash_unless_margin_is_allowed(allow_margin: bool) -> None:
    def margin_with_little_cash(data: dict[str, Any]) -> None:
        data["account"].update(type="margin", cash="1000")

    async with sim_with(margin_with_little_cash) as sim:
        account = sim.venue.account()
        assert Decimal(str(account["buying_power"])) > 50_000  # Reg T: about 2 x equity - held
        harness = EngineHarness(sim, settings=fast_settings(allow_margin=allow_margin))
        outcome = await harness.run(plan_detail([item("MSFT", "BUY", "5000")], plan_time(sim)))
        cash_after = cash_of(sim)

    [msft] = outcome.result.orders
    assert sent_twice(sim) == []
    if allow_margin:
        assert msft.status is ItemStatus.FILLED
        assert msft.filled_notional > Decimal(4900)
        assert cash_after < 0  # borrowed, as allowed
    else:
        assert msft.status is ItemStatus.PARTIALLY_FILLED  # all the cash allowed, no more
        assert msft.reason is not None
        assert "reduced to 970.00 of 5000.00 (reduced_pro_rata)" in msft.reason
        assert msft.filled_notional <= Decimal(970)
        assert cash_after >= 0  # nothing borrowed


async def test_a_pattern_day_trading_refusal_ends_the_item_once_and_clearly() -> None:
    def small_legacy_margin(data: dict[str, Any]) -> None:
        data["clock"]["start"] = LEGACY_START
        data["account"].update(type="margin", cash="10000", daytrade_count=3)
        data["positions"] = {}

    async with sim_with(small_legacy_margin) as sim:
        # Earlier today (another plan, by hand): AAPL bought. Selling it today is a day trade.
        bought = sim.venue.submit_order(market_order("AAPL", "buy", "5"))
        assert bought["status"] == "filled"
        outcome = await EngineHarness(sim).run(
            plan_detail([full_exit("AAPL", "1000")], plan_time(sim))
        )

    [aapl] = outcome.result.orders
    assert aapl.status is ItemStatus.FAILED
    assert aapl.reason is not None
    assert "trade denied due to pattern day trading protection" in aapl.reason
    assert "40310100" in aapl.reason
    sells = [e for e in api_log(sim, "POST", ORDERS_PATH) if e["status"] == 403]
    assert len(sells) == 1  # refused once, never resent
    assert sent_twice(sim) == []
    assert [o["side"] for o in orders_of(sim, "AAPL")] == ["buy"]
    assert outcome.result.status is ExecutionStatus.FAILURE
