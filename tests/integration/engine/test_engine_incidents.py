"""Each predecessor incident, reproduced at the sim (shared/reference/predecessor-lessons.md)."""

import itertools
from decimal import Decimal

import pytest
from engine_sim_views import (
    ORDERS_PATH,
    api_log,
    assert_result_matches_sim,
    filled,
    orders_of,
    positions,
)
from engine_support import EngineHarness, fast_settings, full_exit, item, plan_detail, plan_time

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ItemStatus, OrderType, Urgency
from plan_executor.domain.ledger import LedgerOrderLine
from plan_executor.engine.progress import ProgressEvent

WHOLE_FILLS = pytest.mark.parametrize("sim", [{"partial_fill_share": 0.0}], indirect=True)
"""For tests of one order's one fill: no random paper partial fill splits it."""


def _refused_posts(sim: SimServer) -> list[dict[str, object]]:
    return [e for e in api_log(sim, "POST", ORDERS_PATH) if e["status"] != 200]


async def test_incident_01_orders_are_sized_in_shares_never_in_dollars(
    sim: SimServer, harness: EngineHarness
) -> None:
    outcome = await harness.run(plan_detail([item("PNNY", "BUY", "100")], plan_time(sim)))

    [result] = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    orders = orders_of(sim, "PNNY")
    assert orders
    first = Decimal(orders[0]["qty"])
    assert first > 100, "100 dollars of a $0.45 stock is over 200 shares, never 100"
    for order in orders:  # later children carry what is left after (paper's random) partials
        qty, limit = Decimal(order["qty"]), order["limit_price"]
        assert qty <= first
        if limit is not None:
            assert qty * Decimal(limit) <= 100
    assert 99 <= filled(orders).notional <= 100


async def test_incident_02_full_exit_sells_exactly_the_fractional_holding(
    sim: SimServer, harness: EngineHarness
) -> None:
    held = positions(sim)["SPY"]
    assert held == Decimal("7.2273576")

    outcome = await harness.run(plan_detail([full_exit("SPY", "4910")], plan_time(sim)))

    [result] = outcome.result.orders
    orders = orders_of(sim, "SPY")
    assert Decimal(orders[0]["qty"]) == held
    assert filled(orders).qty == held
    assert result.filled_qty == held
    assert result.status is ItemStatus.FILLED
    assert "SPY" not in positions(sim)
    assert _refused_posts(sim) == []


async def test_incident_03_non_fractionable_buy_sends_whole_shares_and_no_remainder(
    sim: SimServer, harness: EngineHarness
) -> None:
    outcome = await harness.run(plan_detail([item("BRK.B", "BUY", "1984.81")], plan_time(sim)))

    [result] = outcome.result.orders
    orders = orders_of(sim, "BRK.B")
    assert all(Decimal(order["qty"]) == int(Decimal(order["qty"])) for order in orders)
    assert filled(orders).qty == 3  # $1984.81 at ~$498 buys 3 whole shares; the rest is left
    assert result.status is ItemStatus.FILLED
    assert _refused_posts(sim) == []
    assert_result_matches_sim(sim, result)


async def test_incident_03_non_fractionable_sell_below_one_share_is_skipped_not_sent(
    sim: SimServer, harness: EngineHarness
) -> None:
    outcome = await harness.run(
        plan_detail([item("BRK.B", "SELL", "300"), item("AAPL", "SELL", "500")], plan_time(sim))
    )

    brk, aapl = outcome.result.orders
    assert orders_of(sim, "BRK.B") == []
    assert brk.status is ItemStatus.SKIPPED
    assert brk.reason is not None
    assert aapl.status is ItemStatus.FILLED
    assert _refused_posts(sim) == []


async def test_incident_04_zero_ask_is_never_priced_from(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.script_quote("AAPL", bid="271.40", ask="0")

    outcome = await harness.run(
        plan_detail([item("AAPL", "BUY", "1000"), item("MSFT", "BUY", "1000")], plan_time(sim))
    )

    aapl, msft = outcome.result.orders
    assert orders_of(sim, "AAPL") == []
    assert aapl.status is ItemStatus.FAILED
    assert aapl.reason is not None
    assert "quote" in aapl.reason
    assert msft.status is ItemStatus.FILLED


async def test_incident_05_crossed_quote_is_never_priced_from(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.script_quote("AAPL", bid="272.00", ask="271.00")

    outcome = await harness.run(
        plan_detail([item("AAPL", "SELL", "1000"), item("NVDA", "SELL", "1000")], plan_time(sim))
    )

    aapl, nvda = outcome.result.orders
    assert orders_of(sim, "AAPL") == []
    assert aapl.status is ItemStatus.FAILED
    assert aapl.reason is not None
    assert "crossed" in aapl.reason.lower()
    assert nvda.status is ItemStatus.FILLED


async def test_incident_06_partial_fill_then_repeg_sends_only_the_remainder(
    sim: SimServer, harness: EngineHarness
) -> None:
    held = positions(sim)["AAPL"]
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")
    sim.faults.partial_fill_next("AAPL", "5")  # a paper partial fill: the first fill takes 5

    def refill_after_the_partial(event: ProgressEvent) -> None:
        order = event.order
        if order is not None and order.is_terminal and 0 < order.filled_qty < held:
            sim.faults.clear_quote("AAPL")  # the market moves on once the cancel is confirmed

    outcome = await harness.run(
        plan_detail([full_exit("AAPL", "6100")], plan_time(sim)),
        on_progress=refill_after_the_partial,
    )

    orders = orders_of(sim, "AAPL")
    partials = [o for o in orders[:-1] if 0 < Decimal(o["filled_qty"]) < Decimal(o["qty"])]
    assert partials, "a child must have been partially filled, then re-pegged"
    done = Decimal(0)
    for order in orders:
        assert Decimal(order["qty"]) == held - done, "every child is exactly the remainder"
        done += Decimal(order["filled_qty"])
    assert done == held
    [result] = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    assert result.repegs + int(result.market_fallback) >= 1
    assert "AAPL" not in positions(sim)
    assert_result_matches_sim(sim, result)


async def test_incident_07_fill_winning_the_cancel_ends_the_item_without_a_resend(
    sim: SimServer, harness: EngineHarness
) -> None:
    held = positions(sim)["AAPL"]
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # our first limit rests
    sim.faults.race_fill_on_next_cancel("AAPL")

    outcome = await harness.run(plan_detail([full_exit("AAPL", "6100")], plan_time(sim)))

    [order] = orders_of(sim, "AAPL")
    assert order["status"] == "filled"
    assert Decimal(order["filled_qty"]) == held
    assert [e["path"] for e in api_log(sim, "DELETE")] == [f"{ORDERS_PATH}/{order['id']}"]
    [result] = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    assert result.repegs == 0
    assert "AAPL" not in positions(sim)
    assert_result_matches_sim(sim, result)


async def test_incident_08_a_repeg_never_resends_the_working_price(sim: SimServer) -> None:
    # It walks at one tick too (by default such an item is one market order, design 2.9).
    harness = EngineHarness(sim, settings=fast_settings(walk_min_spread_ticks=1))
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.41")  # steps round onto one tick

    outcome = await harness.run(plan_detail([item("AAPL", "BUY", "1000")], plan_time(sim)))

    limits = [o["limit_price"] for o in orders_of(sim, "AAPL") if o["limit_price"] is not None]
    assert len(limits) >= 2
    assert all(a != b for a, b in itertools.pairwise(limits))
    assert outcome.result.orders[0].status is ItemStatus.FILLED


async def test_incident_09_orders_cancelled_by_the_broker_reach_the_market_fallback(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.script_quote("MSFT", bid="508.00", ask="508.40")  # four distinct limit prices
    walk_steps = harness.settings.profile(Urgency.NORMAL).step_count
    sim.faults.cancel_next_orders("MSFT", count=walk_steps)

    outcome = await harness.run(plan_detail([item("MSFT", "BUY", "1000")], plan_time(sim)))

    orders = orders_of(sim, "MSFT")
    *limits, market = orders
    assert len(limits) == walk_steps
    assert all(o["type"] == "limit" and o["status"] == "canceled" for o in limits)
    assert all(o["filled_qty"] == "0" for o in limits)
    assert api_log(sim, "DELETE") == [], "the broker cancelled them, not us"
    assert market["type"] == "market"
    assert market["status"] == "filled"
    [result] = outcome.result.orders
    assert result.market_fallback
    assert result.status is ItemStatus.FILLED
    assert result.child_orders[-1].order_type is OrderType.MARKET
    assert_result_matches_sim(sim, result)


@WHOLE_FILLS
async def test_incident_15_a_fill_without_a_price_is_reread_from_the_broker(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.omit_price_on_next_fill("MSFT", reads=2)  # the submit answer and one read

    outcome = await harness.run(
        plan_detail([item("MSFT", "BUY", "1000")], plan_time(sim), urgency="URGENT")
    )

    [order] = orders_of(sim, "MSFT")
    [result] = outcome.result.orders
    [fill] = order["fills"]
    assert result.avg_fill_price == Decimal(fill["price"])
    assert result.status is ItemStatus.FILLED
    reads = [
        e
        for e in api_log(sim, "GET", "/v2/orders:by_client_order_id")
        if e["query"].get("client_order_id") == order["client_order_id"]
    ]
    assert len(reads) >= 2
    [line] = outcome.ledger_lines
    assert isinstance(line, LedgerOrderLine)
    assert line.avg_fill_price == Decimal(fill["price"])


@WHOLE_FILLS
async def test_incident_15_a_price_that_never_comes_is_never_estimated(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.omit_price_on_next_fill("MSFT", reads=1000)

    outcome = await harness.run(
        plan_detail([item("MSFT", "BUY", "1000")], plan_time(sim), urgency="URGENT")
    )

    [order] = orders_of(sim, "MSFT")
    assert order["status"] == "filled"
    [result] = outcome.result.orders
    assert result.filled_qty == Decimal(order["filled_qty"])
    assert result.avg_fill_price is None
    assert result.filled_notional == 0
    assert result.slippage_bps is None
    assert result.reason is not None
    assert "average price unknown" in result.reason
    assert [child.avg_fill_price for child in result.child_orders] == [None]
    [line] = outcome.ledger_lines
    assert isinstance(line, LedgerOrderLine)
    assert line.avg_fill_price is None
    assert [fill.price for fill in line.fills] == [None], (
        "the fill is recorded, its price not made up"
    )
    assert sum(fill.qty for fill in line.fills) == line.filled_qty
