"""A mixed plan end to end: sells first, buys from the buying power the sells freed, and a result
that is the sim's own record, order by order."""

import asyncio
import json
from decimal import Decimal

from engine_sim_views import (
    ORDERS_PATH,
    api_log,
    assert_result_matches_sim,
    instant,
    positions,
    sent_twice,
    sim_filled,
    sim_orders,
)
from engine_support import (
    CLOSE_BOUND_S,
    SEED,
    EngineHarness,
    event_detail,
    fast_settings,
    item,
    plan_detail,
    plan_time,
)

from alpaca_sim.scenario import scenario_from_dict
from alpaca_sim.server import SimServer
from plan_executor.domain.allocation import BuyRequest, allocate_buys
from plan_executor.domain.enums import Action, ExecutionStatus, ItemStatus, Side
from plan_executor.domain.money import Dollars
from plan_executor.domain.slippage import slippage_bps
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind

DEFAULT_SCENARIO = "src/alpaca_sim/scenarios/default.json"


def _side(action: Action) -> str:
    return "buy" if action is Action.BUY else "sell"


async def test_mixed_plan_sells_fill_before_any_buy_and_the_result_is_the_sims(
    sim: SimServer, harness: EngineHarness
) -> None:
    before = positions(sim)
    streams_seen: set[int] = set()
    detail = event_detail("mixed-sell-and-buy.json", plan_time(sim))

    def count_streams(event: ProgressEvent) -> None:
        if event.phase is not Phase.GUARDS:  # the stream opens after the guard rails
            streams_seen.add(sim.hub.listening_count)

    outcome = await harness.run(detail, on_progress=count_streams)

    result = outcome.result
    assert result.status is ExecutionStatus.SUCCESS
    trading = [order for order in result.orders if order.action is not Action.HOLD]
    assert {order.status for order in trading} == {ItemStatus.FILLED}
    orders = sim_orders(sim)
    sells = [order for order in orders if order["side"] == "sell"]
    buys = [order for order in orders if order["side"] == "buy"]
    first_buy_sent = min(instant(order["submitted_at"]) for order in buys)
    assert all(order["status"] in {"filled", "canceled"} for order in sells)
    assert max(instant(order["updated_at"]) for order in sells) <= first_buy_sent
    side_of = {order["client_order_id"]: order["side"] for order in orders}
    log = api_log(sim)
    posts = [i for i, e in enumerate(log) if e["method"] == "POST" and e["path"] == ORDERS_PATH]
    last_sell_post = max(i for i in posts if side_of[log[i]["client_order_id"]] == "sell")
    first_buy_post = min(i for i in posts if side_of[log[i]["client_order_id"]] == "buy")
    account_reads = [i for i, e in enumerate(log) if e["path"] == "/v2/account"]
    assert any(last_sell_post < i < first_buy_post for i in account_reads)
    assert sent_twice(sim) == []
    after = positions(sim)
    for order in result.orders:
        assert_result_matches_sim(sim, order)
        signed = order.filled_qty if order.action is Action.BUY else -order.filled_qty
        assert after.get(order.symbol, Decimal(0)) == before[order.symbol] + signed
        if order.action is Action.HOLD:
            assert order.child_orders == ()
            continue
        arrival = order.arrival_quote
        assert arrival is not None
        assert order.avg_fill_price is not None
        assert arrival.mid == (arrival.bid + arrival.ask) / 2
        side = Side.BUY if order.action is Action.BUY else Side.SELL
        exact_avg = sim_filled(sim, order).avg  # slippage is from the exact fills
        assert exact_avg is not None
        assert order.slippage_bps is not None
        assert abs(order.slippage_bps - slippage_bps(side, exact_avg, arrival.mid)) <= Decimal(
            "0.01"
        )
        first_sent = order.child_orders[0].submitted_at
        assert first_sent is not None
        assert arrival.time <= first_sent
        assert {child.side for child in order.child_orders} == {side}
    assert streams_seen == {1}
    await asyncio.wait_for(sim.hub.wait_listening(0), CLOSE_BOUND_S)


def _scenario_with_cash(cash: str) -> dict[str, object]:
    with open(DEFAULT_SCENARIO, encoding="utf-8") as source:
        scenario: dict[str, object] = json.load(source)
    account = scenario["account"]
    assert isinstance(account, dict)
    account["cash"] = cash
    return scenario


async def test_buys_are_sized_from_the_buying_power_the_sells_freed() -> None:
    scenario = scenario_from_dict(_scenario_with_cash("200.00"))
    async with SimServer(scenario, seed=SEED, speed=1.0) as sim:
        harness = EngineHarness(sim, settings=fast_settings())
        detail = plan_detail(
            [
                item("AAPL", "SELL", "3000"),
                item("NVDA", "SELL", "3000"),
                item("MSFT", "BUY", "4000", priority=1),
                item("GOOGL", "BUY", "4000", priority=2),
            ],
            plan_time(sim),
        )
        cash_before_buys: list[Decimal] = []

        def at_buys(event: ProgressEvent) -> None:
            if event.kind is ProgressKind.PHASE_STARTED and event.phase is Phase.BUYS:
                account = sim.venue.account()
                cash_before_buys.append(
                    min(Decimal(str(account["cash"])), Decimal(str(account["buying_power"])))
                )

        outcome = await harness.run(detail, on_progress=at_buys)

    [post_sell_cash] = cash_before_buys
    sold = sum(o.filled_notional for o in outcome.result.orders if o.action is Action.SELL)
    assert post_sell_cash >= Decimal(200) + sold - Decimal("0.02")  # cents rounding per fill
    grants = allocate_buys(
        [
            BuyRequest("MSFT", 1, Dollars(Decimal(4000))),
            BuyRequest("GOOGL", 2, Dollars(Decimal(4000))),
        ],
        Dollars(post_sell_cash),
        reserve_fraction=harness.settings.buy_reserve_fraction,
        min_notional=harness.settings.min_notional,
    )
    granted = {grant.symbol: grant.granted for grant in grants}
    assert granted["MSFT"] == 4000
    assert 1000 < granted["GOOGL"] < 4000, "the sells must leave GOOGL short, but funded"
    by_symbol = {order.symbol: order for order in outcome.result.orders}
    for symbol in ("MSFT", "GOOGL"):
        bought = by_symbol[symbol].filled_notional
        assert granted[symbol] - harness.settings.min_notional <= bought <= granted[symbol]
    googl = by_symbol["GOOGL"]
    assert googl.reason is not None
    assert "reduced" in googl.reason
