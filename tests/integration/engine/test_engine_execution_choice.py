"""Walk or marketable, per item, at the sim through the real adapter (docs/design.md 2.9).

On paper a NORMAL plan sends exactly what the same plan with plain market orders sends: one DAY
market order per item, sized in shares (sells rounded down, buys within their budget), never a
limit, a wait between steps or a cancel. So it costs what the market-order plan costs and waits
on nothing the market-order plan does not. How long either takes at the sim is the bench's to
measure (bench/execution_cost.py): a test of it would need a timing threshold.
"""

from decimal import Decimal

from engine_sim_views import api_log, assert_result_matches_sim, orders_of, sim_orders
from engine_support import EngineHarness, fast_settings, full_exit, item, plan_detail, plan_time

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import Execution, ExecutionStatus, ItemStatus
from plan_executor.domain.execution_choice import PAPER_NOTE, PAPER_REASON


async def test_a_normal_plan_on_paper_sends_one_market_order_per_item_and_says_so_once(
    sim: SimServer,
) -> None:
    harness = EngineHarness(sim, settings=fast_settings(venue=None))  # paper keys: paper
    plan = [
        item("AAPL", "SELL", "1000"),
        item("BRK.B", "SELL", "1000"),
        full_exit("JNJ"),
        item("MSFT", "BUY", "1500"),
        item("GOOGL", "BUY", "1500"),
    ]

    outcome = await harness.run(plan_detail(plan, plan_time(sim)))

    result = outcome.result
    orders = sim_orders(sim)
    assert sorted(order["symbol"] for order in orders) == sorted(entry["symbol"] for entry in plan)
    assert {(order["type"], order["time_in_force"]) for order in orders} == {("market", "day")}
    assert api_log(sim, "DELETE") == [], "nothing was cancelled: nothing rested"
    [brk] = orders_of(sim, "BRK.B")
    assert Decimal(brk["qty"]) == 2, "$1000 of a whole-share ~$498 stock: 2 shares, rounded down"
    [jnj] = orders_of(sim, "JNJ")
    assert Decimal(jnj["qty"]) == 30, "a full exit sells the holding"
    for order in result.orders:
        assert order.execution is Execution.MARKETABLE
        assert order.execution_reason == PAPER_REASON
        assert (order.repegs, order.market_fallback) == (0, False)
        assert order.status is ItemStatus.FILLED
        assert_result_matches_sim(sim, order)
    assert result.status is ExecutionStatus.SUCCESS
    assert result.reason == PAPER_NOTE
    stored = result.model_dump(mode="json")  # what result.json in the ledger holds
    assert {entry["execution"] for entry in stored["orders"]} == {"marketable"}


async def test_on_live_a_one_tick_item_goes_marketable_and_a_wide_one_walks(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.41")  # one tick
    sim.faults.script_quote("MSFT", bid="508.00", ask="508.40")  # forty ticks
    plan = [item("AAPL", "BUY", "1000"), item("MSFT", "BUY", "1000")]

    outcome = await harness.run(plan_detail(plan, plan_time(sim)))

    [aapl_order] = orders_of(sim, "AAPL")
    assert aapl_order["type"] == "market"
    msft_orders = orders_of(sim, "MSFT")
    first = msft_orders[0]
    assert first["type"] == "limit"
    assert Decimal("508.00") < Decimal(first["limit_price"]) < Decimal("508.40"), "inside"
    aapl, msft = outcome.result.orders
    assert aapl.execution is Execution.MARKETABLE
    assert aapl.execution_reason is not None
    assert aapl.execution_reason.startswith("spread 1 tick,")
    assert aapl.market_fallback is False
    assert msft.execution is Execution.WALK
    assert msft.execution_reason is not None
    assert msft.execution_reason.startswith("spread 40 ticks and time for the walk")
    for order in (aapl, msft):
        assert order.status is ItemStatus.FILLED
        assert_result_matches_sim(sim, order)
    assert PAPER_NOTE not in (outcome.result.reason or "")
