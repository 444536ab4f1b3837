"""The market closing mid-plan (issue 12, item 6).

The sim's scenario clock is moved to the session's close the moment both sells are working, so
the close comes mid-plan without waiting for it. The close the engine keeps is the one the
guard rails read from the broker's clock (`next_close`). From it nothing new may be sent: the
sim, like Alpaca, would take a DAY order after the close and queue it for the next open
(alpaca_sim/engine.py names the source), and the engine used to send such orders (market ones
among them) and cancel them unfilled.
"""

from datetime import datetime, timedelta

from engine_sim_views import ORDERS_PATH, api_log, instant, open_orders, sim_orders
from engine_support import BUDGET_S, EngineHarness, fast_settings, item, plan_detail, plan_time

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.engine.progress import ProgressEvent

SELLS = (item("AAPL", "SELL", "2000"), item("NVDA", "SELL", "1500"))
BUYS = (item("MSFT", "BUY", "1500"), item("GOOGL", "BUY", "1000"))


class CloseWhenSellsWork:
    """Moves the sim's clock to its session close once every sell has an order working."""

    def __init__(self, sim: SimServer) -> None:
        self._sim = sim
        self._working: set[str] = set()
        self.close: datetime | None = None

    def on_progress(self, event: ProgressEvent) -> None:
        order = event.order
        if self.close is not None or order is None or order.broker_id is None:
            return
        self._working.add(order.symbol)
        if self._working == {"AAPL", "NVDA"}:
            self.close = instant(str(self._sim.venue.clock_view()["next_close"]))
            self._sim.venue.clock.set(self.close)


async def test_the_close_mid_plan_sends_nothing_more_and_ends_every_item_market_closed(
    sim: SimServer,
) -> None:
    settings = fast_settings(
        step_wait_ms=400, market_close_check_interval=timedelta(milliseconds=50)
    )
    harness = EngineHarness(sim, settings=settings)
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # the first limits rest
    sim.faults.script_quote("NVDA", bid="189.70", ask="189.80")
    closing = CloseWhenSellsWork(sim)

    outcome = await harness.run(
        plan_detail([*SELLS, *BUYS], plan_time(sim)),
        budget_s=BUDGET_S,
        on_progress=closing.on_progress,
    )

    close = closing.close
    assert close is not None, "the sells were working when the market closed"
    posted = api_log(sim, "POST", ORDERS_PATH)
    assert {str(e["client_order_id"]).split("-")[1] for e in posted} == {"AAPL", "NVDA"}
    assert all(instant(str(e["time"])) < close for e in posted), "nothing sent at/after the close"
    orders = sim_orders(sim)
    assert [o["order_type"] for o in orders] == ["limit", "limit"]
    assert all(o["status"] in {"canceled", "expired"} for o in orders), orders
    assert all(not o["fills"] for o in orders)
    assert open_orders(sim) == []

    assert outcome.result.status is not ExecutionStatus.TIMED_OUT
    for result in outcome.result.orders:
        assert result.status is ItemStatus.CANCELED, result
        assert result.reason is not None
        assert result.reason.startswith("market_closed"), result.reason
