"""A broker outage right after the sells were sent (issue 12, item 2).

Every /v2 request answers 503 and the trade stream is dropped and refused from the moment both
sells are acknowledged. The walk's first step ends inside the outage, so each sell's cancel is
refused. In production the outage lasted 15 s, longer than a whole cancel round (the adapter's
retries, the confirmation wait, a re-read); here time is compressed by events instead: the
broker comes back once AAPL's cancel has been refused one more time than the adapter retries
one request, which only a second cancel round of the engine can do. Nothing waits on a clock.
"""

import asyncio

from engine_sim_views import (
    ORDERS_PATH,
    api_log,
    filled,
    instant,
    open_orders,
    orders_of,
    placed_twice,
    sent_twice,
    sim_orders,
)
from engine_support import BUDGET_S, EngineHarness, item, plan_detail, plan_time

from alpaca_sim.faults import HttpFault
from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine
from plan_executor.engine.progress import ProgressEvent

RETRY_ATTEMPTS = 4
"""Requests the adapter makes for one call before it gives up (EngineHarness's default)."""
REFUSED_FOR_GOOD_S = 3600.0
"""The stream refuses connections until the outage is ended by hand, not by this."""
SELLS = (item("AAPL", "SELL", "2000"), item("NVDA", "SELL", "1500"))
BUY = item("MSFT", "BUY", "1500")


class Outage:
    """All of /v2 down and the stream refused, from the moment every sell is acknowledged
    until AAPL's first order has had `RETRY_ATTEMPTS + 1` cancels refused. With
    `aapl_fills_unheard`, that order fills at the start of the outage."""

    def __init__(self, sim: SimServer, *, aapl_fills_unheard: bool = False) -> None:
        self._sim = sim
        self._aapl_fills = aapl_fills_unheard
        self._acked: dict[str, str] = {}
        self._started = asyncio.Event()
        self.aapl_cancels: HttpFault | None = None
        self.aapl_order_id = ""
        self.recovered_at = 0
        """Entries in the sim's request log when the broker came back."""

    def on_progress(self, event: ProgressEvent) -> None:
        order = event.order
        if self._started.is_set() or order is None or order.broker_id is None:
            return
        self._acked[order.symbol] = order.broker_id
        if set(self._acked) == {"AAPL", "NVDA"}:
            self._start()

    def _start(self) -> None:
        faults = self._sim.faults
        self.aapl_order_id = self._acked["AAPL"]
        path = f"{ORDERS_PATH}/{self.aapl_order_id}"
        self.aapl_cancels = faults.fail_next(503, count=None, method="DELETE", path=path)
        faults.fail_next(503, count=None, path="/v2/*")
        faults.drop_streams(refuse_seconds=REFUSED_FOR_GOOD_S)
        if self._aapl_fills:  # the bid runs through AAPL's limit: it fills, nobody hears it
            faults.script_quote("AAPL", bid="271.60", ask="271.70")
        self._started.set()

    async def end_after_a_second_cancel_round(self) -> None:
        await self._started.wait()
        assert self.aapl_cancels is not None
        await self._sim.faults.wait_used(self.aapl_cancels, RETRY_ATTEMPTS + 1)
        self._sim.faults.clear()
        self._sim.hub.allow_connections()
        self.recovered_at = len(self._sim.context.log.entries())


async def test_a_cancel_refused_through_an_outage_is_retried_and_the_plan_goes_on_to_buys(
    sim: SimServer,
) -> None:
    harness = EngineHarness(sim, retry_attempts=RETRY_ATTEMPTS)
    # Refused requests count against the sim's per-minute budget like any other, and the
    # harness's limiter does not pace them: a slow machine polling through the outage could
    # turn its 503s into 429s. This test is about the outage (the 429 storm has its own).
    sim.limiter.configure(enabled=False)
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # the first limits rest
    sim.faults.script_quote("NVDA", bid="189.70", ask="189.80")
    outage = Outage(sim)

    outcome, _ = await asyncio.gather(
        harness.run(
            plan_detail([*SELLS, BUY], plan_time(sim)),
            budget_s=BUDGET_S,
            on_progress=outage.on_progress,
        ),
        asyncio.wait_for(outage.end_after_a_second_cancel_round(), BUDGET_S),
    )

    log = sim.context.log.entries()
    after = log[outage.recovered_at :]
    aapl_path = f"{ORDERS_PATH}/{outage.aapl_order_id}"
    retried = [e for e in after if e["method"] == "DELETE" and e["path"] == aapl_path]
    assert [e["status"] for e in retried if e.get("fault") is None] == [204], (
        "the cancel refused during the outage was asked again once the broker was back"
    )
    [first_aapl, *_] = orders_of(sim, "AAPL")
    assert first_aapl["id"] == outage.aapl_order_id
    assert first_aapl["status"] == "canceled"
    buys = [e for e in api_log(sim, "POST", ORDERS_PATH) if "MSFT" in str(e["client_order_id"])]
    assert buys, "the plan went on to its buy"
    assert log.index(buys[0]) >= outage.recovered_at
    assert instant(str(first_aapl["canceled_at"])) <= instant(str(buys[0]["time"])), (
        "no sell stayed live past its retried cancel"
    )

    assert outcome.result.status is ExecutionStatus.SUCCESS
    by_client_id = {order["client_order_id"]: order for order in sim_orders(sim)}
    for result in outcome.result.orders:
        assert result.status is ItemStatus.FILLED
        assert "not confirmed" not in (result.reason or ""), result.reason
        children = [by_client_id[child.client_order_id] for child in result.child_orders]
        assert [c.status.value for c in result.child_orders] == [o["status"] for o in children]
        assert result.filled_qty == filled(children).qty
    cancellations = [
        line for line in outcome.ledger_lines if isinstance(line, LedgerCancellationLine)
    ]
    aapl_cancels = [c for c in cancellations if c.broker_order_id == outage.aapl_order_id]
    assert [(c.reason, c.confirmed_at is not None) for c in aapl_cancels] == [
        (CancelReason.REPEG, True)
    ], "one cancel, asked until confirmed: neither the settlement nor the cleanup had to"
    assert {c.reason for c in cancellations} == {CancelReason.REPEG}
    assert open_orders(sim) == []
    assert placed_twice(sim) == []
    assert sent_twice(sim) == []


async def test_an_order_that_filled_during_the_outage_counts_and_its_reason_says_no_cancel_failed(
    sim: SimServer,
) -> None:
    harness = EngineHarness(sim, retry_attempts=RETRY_ATTEMPTS)
    sim.limiter.configure(enabled=False)  # as above: the outage's 503s are not to become 429s
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")
    sim.faults.script_quote("NVDA", bid="189.70", ask="189.80")
    outage = Outage(sim, aapl_fills_unheard=True)

    outcome, _ = await asyncio.gather(
        harness.run(
            plan_detail([*SELLS, BUY], plan_time(sim)),
            budget_s=BUDGET_S,
            on_progress=outage.on_progress,
        ),
        asyncio.wait_for(outage.end_after_a_second_cancel_round(), BUDGET_S),
    )

    [first_aapl, *_] = orders_of(sim, "AAPL")
    assert first_aapl["status"] == "filled"
    aapl = next(result for result in outcome.result.orders if result.symbol == "AAPL")
    assert aapl.status is ItemStatus.FILLED
    assert aapl.filled_qty == filled([first_aapl]).qty
    assert "cancel" not in (aapl.reason or ""), "it filled: a refused cancel is no reason of it"
    [line] = [
        line
        for line in outcome.ledger_lines
        if isinstance(line, LedgerCancellationLine) and line.broker_order_id == first_aapl["id"]
    ]
    assert (line.reason, line.filled_qty) == (CancelReason.REPEG, filled([first_aapl]).qty)
    assert line.confirmed_at is not None
    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert open_orders(sim) == []
    assert sent_twice(sim) == []
