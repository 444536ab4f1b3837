"""The trade stream's own faults during a plan (docs/design.md 2.7): a silent socket, a second
connection refused or the first one closed (one connection per key), late events. Each plan
ends with the sim's fills, every order's outcome read by REST where the stream missed it,
nothing counted twice and nothing sent twice.

The bound is tested on a steppable loop: the tracker's timers (`stream_silence_timeout`,
`poll_interval`) are set far above the hang guard and the test moves the loop's clock once,
to the bound, so "read within the bound" is a fact of the order of events, not of the
machine's speed: a bound missed by one poll round would need `poll_interval` (40 s) of real
time, which the hang guard (30 s) never waits.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from engine_sim_views import (
    ORDERS_PATH,
    api_log,
    assert_result_matches_sim,
    open_orders,
    orders_of,
    placed_twice,
    sent_twice,
    until_sim,
)
from engine_support import (
    BUDGET_S,
    SEED,
    EngineHarness,
    fast_settings,
    full_exit,
    item,
    plan_detail,
    plan_time,
)
from tests.support.steppable_loop import run_on_steppable_loop, running_steppable_loop

from alpaca_sim.server import SimServer
from alpaca_sim.stream_limit import ConnectionLimit
from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import ChildOrderStatus, ExecutionStatus, ItemStatus, OrderType
from plan_executor.domain.ledger import LedgerOrderLine
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.models import ExecutionOutcome
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind

WAIT_S = 30.0
"""Hang guard for what comes within milliseconds of real time."""
SILENCE_S = 100.0
POLL_S = 40.0
"""Both above the hang guard (see the module docstring); their sum stays below the 180 s
websocket ping timeout, so the jump never ends a connection by itself."""
BOUND_S = SILENCE_S + POLL_S
"""docs/design.md 2.7: owed news is read by REST within stream_silence_timeout +
poll_interval of the broker's answer."""
NEVER_S = 3600.0
"""The plans' budget where a test decides when the sell fills (the run ends once it has)."""
STEP_WAIT_MS = 600_000
"""A step wait no test reaches (the steppable clock's one jump to BOUND_S included): the first
limit rests until the test fills it. Short enough that the walk (four steps and the market
wait, about 40 min) fits in NEVER_S: a walk that could not end by the plan's deadline is not
started (domain/execution_choice.py, step 4), and the market order sent instead would fill in
its POST's answer, owing the stream no news."""
BY_CLIENT_ID = "/v2/orders:by_client_order_id"
RESTING = {"bid": "271.40", "ask": "271.50"}
"""AAPL quotes at which the sell's first limit rests..."""
CROSSED = {"bid": "271.60", "ask": "271.70"}
"""...and at which it fills."""


def silent_settings() -> ExecutionSettings:
    return fast_settings(
        step_wait_ms=STEP_WAIT_MS,
        poll_interval=timedelta(seconds=POLL_S),
        stream_silence_timeout=timedelta(seconds=SILENCE_S),
        max_repegs_per_step=0,
        settle_timeout=timedelta(seconds=NEVER_S),
    )


def a_sell() -> list[dict[str, Any]]:
    return [full_exit("AAPL", "6100")]


def sim_status(sim: SimServer, cid: str) -> str:
    [order] = [o for o in orders_of(sim, "AAPL") if o["client_order_id"] == cid]
    return str(order["status"])


def reads_of(sim: SimServer, cid: str) -> list[dict[str, Any]]:
    entries = api_log(sim, "GET", BY_CLIENT_ID)
    return [e for e in entries if e["query"].get("client_order_id") == cid]


def order_line(outcome: ExecutionOutcome, cid: str) -> LedgerOrderLine:
    [line] = [
        line
        for line in outcome.ledger_lines
        if isinstance(line, LedgerOrderLine) and line.client_order_id == cid
    ]
    return line


def assert_plan_correct(sim: SimServer, outcome: ExecutionOutcome) -> None:
    assert outcome.result.status is ExecutionStatus.SUCCESS
    for result in outcome.result.orders:
        assert result.status is ItemStatus.FILLED
        assert_result_matches_sim(sim, result)
    assert placed_twice(sim) == []
    assert sent_twice(sim) == []
    assert open_orders(sim) == []


class SellWatch:
    """Progress hook: silences the stream as the sells start, notes the sell's first order when
    the broker acknowledged it (with the loop's time then) and each state it went through."""

    def __init__(self, sim: SimServer, *, keep_backlog: bool = False) -> None:
        self._sim = sim
        self._keep_backlog = keep_backlog
        self.silenced: int | None = None
        self.cid = ""
        self.acked_at = 0.0
        self.acked = asyncio.Event()
        self.states: list[ChildOrder] = []

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind is ProgressKind.PHASE_STARTED and event.phase is Phase.SELLS:
            self.silenced = self._sim.faults.silence_streams(keep_backlog=self._keep_backlog)
        order = event.order
        if order is None:
            return
        if not self.cid and order.broker_id is not None:
            assert order.order_type is OrderType.LIMIT, "the sell walks: its first limit rests"
            self.cid = order.client_order_id
            self.acked_at = asyncio.get_running_loop().time()
            self.acked.set()
        if order.client_order_id == self.cid:
            self.states.append(order)
            self.on_state(order)

    def on_state(self, order: ChildOrder) -> None:
        """For subclasses."""


async def fill_unheard_then_read_within_the_bound(sim: SimServer, watch: SellWatch) -> None:
    """Once the sell is acknowledged (its `new` swallowed), it fills (news swallowed too); the
    clock moves to the bound, and the tracker's REST read of it follows at once."""
    async with asyncio.timeout(WAIT_S):
        await watch.acked.wait()
    sim.faults.script_quote("AAPL", **CROSSED)
    sim.venue.tick()
    await until_sim(sim, lambda: sim_status(sim, watch.cid) == "filled")
    reads = sim.faults.slow(0, count=None, method="GET", path=BY_CLIENT_ID)  # counts, no delay
    assert reads_of(sim, watch.cid) == [], "no REST read before the news was overdue"
    running_steppable_loop().clock.advance_to(watch.acked_at + BOUND_S)
    async with asyncio.timeout(WAIT_S):
        await sim.faults.wait_used(reads, 1)
    assert reads_of(sim, watch.cid), "the first read after the jump is the sell's"


# --- a silent socket -----------------------------------------------------------------------


def test_a_silent_stream_is_noticed_within_the_bound_and_the_fill_is_read_by_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="plan_executor.engine.tracker")

    run_on_steppable_loop(_silent_stream())

    silent = [r for r in caplog.records if r.getMessage().startswith("trade stream silent")]
    assert len(silent) == 1, "presumed silent (nothing heard at all), not one missing event"


async def _silent_stream() -> None:
    async with SimServer(seed=SEED, speed=1.0) as sim:
        harness = EngineHarness(sim, settings=silent_settings())
        sim.faults.script_quote("AAPL", **RESTING)
        watch = SellWatch(sim)

        outcome, _ = await asyncio.gather(
            harness.run(plan_detail(a_sell(), plan_time(sim)), budget_s=NEVER_S, on_progress=watch),
            fill_unheard_then_read_within_the_bound(sim, watch),
        )

        assert watch.silenced == 1
        assert_plan_correct(sim, outcome)
        assert [order.status for order in watch.states][-1] is ChildOrderStatus.FILLED
        line = order_line(outcome, watch.cid)
        assert [fill.execution_id for fill in line.fills] == [None], "known from REST alone"
        assert sim.hub.listens.value == 1, "not silent long enough to be replaced"


class LateFillGate(SellWatch):
    """Ends the silence once REST has shown the sell filled (its stalled news then arrives,
    late), and holds the final sweep's listing until the late fill has been applied."""

    def __init__(self, sim: SimServer) -> None:
        super().__init__(sim, keep_backlog=True)
        self.late_applied = False

    def on_state(self, order: ChildOrder) -> None:
        if order.status is not ChildOrderStatus.FILLED:
            return
        if all(fill.execution_id is None for fill in order.fills):  # from REST
            self._sim.faults.hang(method="GET", path=ORDERS_PATH)
            self._sim.faults.end_stream_silence()
        else:  # the late fill named the execution
            self.late_applied = True
            self._sim.faults.clear()


def test_a_stalled_stream_that_resumes_after_rest_changes_no_fill() -> None:
    run_on_steppable_loop(_stalled_stream())


async def _stalled_stream() -> None:
    async with SimServer(seed=SEED, speed=1.0) as sim:
        harness = EngineHarness(sim, settings=silent_settings())
        sim.faults.script_quote("AAPL", **RESTING)
        watch = LateFillGate(sim)

        outcome, _ = await asyncio.gather(
            harness.run(plan_detail(a_sell(), plan_time(sim)), budget_s=NEVER_S, on_progress=watch),
            fill_unheard_then_read_within_the_bound(sim, watch),
        )

        assert watch.late_applied
        filled = [order for order in watch.states if order.status is ChildOrderStatus.FILLED]
        assert [fill.execution_id is None for fill in filled[0].fills] == [True], "REST first"
        assert {order.filled_qty for order in filled} == {filled[0].qty}, "never more"
        assert_plan_correct(sim, outcome)
        [sim_order] = orders_of(sim, "AAPL")
        line = order_line(outcome, watch.cid)
        assert sum(fill.qty for fill in line.fills) == line.filled_qty == filled[0].qty
        named = {fill.execution_id for fill in line.fills} - {None}
        assert named, "the late fill named its execution"
        assert named <= {fill["execution_id"] for fill in sim_order["fills"]}


async def test_a_stream_silent_for_two_timeouts_is_replaced_and_heard_again(
    sim: SimServer,
) -> None:
    """On the real clock with short timeouts: no bound is measured here, only what follows."""
    settings = fast_settings(
        step_wait_ms=STEP_WAIT_MS,
        poll_interval=timedelta(milliseconds=50),
        stream_silence_timeout=timedelta(milliseconds=300),
        max_repegs_per_step=0,
    )
    harness = EngineHarness(sim, settings=settings)
    sim.faults.script_quote("AAPL", **RESTING)
    watch = SellWatch(sim)

    async def fill_once_replaced() -> None:
        async with asyncio.timeout(WAIT_S):
            await sim.hub.listens.wait_at_least(2)  # the silent one given up, a new one listens
        sim.faults.script_quote("AAPL", **CROSSED)  # heard on the new connection
        sim.venue.tick()

    async with asyncio.timeout(WAIT_S):
        outcome, _ = await asyncio.gather(
            harness.run(plan_detail(a_sell(), plan_time(sim)), budget_s=NEVER_S, on_progress=watch),
            fill_once_replaced(),
        )

    assert watch.silenced == 1
    assert_plan_correct(sim, outcome)
    line = order_line(outcome, watch.cid)
    [sim_order] = orders_of(sim, "AAPL")
    assert [f.execution_id for f in line.fills] == [
        fill["execution_id"] for fill in sim_order["fills"]
    ], "the fill came on the new connection"


# --- one connection per key ----------------------------------------------------------------

MIXED = (
    item("AAPL", "SELL", "2000"),
    item("NVDA", "SELL", "1500"),
    item("MSFT", "BUY", "1500"),
    item("GOOGL", "BUY", "1000"),
)


async def hold_the_slot(
    session: aiohttp.ClientSession, sim: SimServer, *, listen: bool = True
) -> aiohttp.ClientWebSocketResponse:
    """Another client of the same key (a stale process's), authenticated, maybe listening."""
    other = await session.ws_connect(sim.stream_url)
    await other.send_json(
        {"action": "authenticate", "data": {"key_id": sim.api_key, "secret_key": sim.api_secret}}
    )
    await other.receive(timeout=WAIT_S)
    if listen:
        await other.send_json({"action": "listen", "data": {"streams": ["trade_updates"]}})
        await other.receive(timeout=WAIT_S)
    return other


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.mark.parametrize("limit", [ConnectionLimit.REFUSE_HANDSHAKE, ConnectionLimit.REFUSE_AUTH])
async def test_a_refused_stream_does_not_stall_the_plan_which_runs_on_rest(
    sim: SimServer, session: aiohttp.ClientSession, limit: ConnectionLimit
) -> None:
    sim.faults.stream_connection_limit(limit)
    other = await hold_the_slot(session, sim)
    # Were the stream's entry to wait for its connect timeout, the hang guard would end this.
    harness = EngineHarness(sim, stream_connect_timeout_s=NEVER_S)

    async with asyncio.timeout(WAIT_S):
        outcome = await harness.run(plan_detail(MIXED, plan_time(sim)), budget_s=BUDGET_S)

    assert sim.hub.refused.value >= 1
    assert sim.hub.listens.value == 1, "only the other client ever listened"
    assert_plan_correct(sim, outcome)
    fills = [
        fill
        for line in outcome.ledger_lines
        if isinstance(line, LedgerOrderLine)
        for fill in line.fills
    ]
    assert fills, "the plan traded"
    assert {fill.execution_id for fill in fills} == {None}, "every fill known from REST alone"
    await other.close()


async def test_a_stream_closed_for_another_connection_does_not_stall_the_plan_rest_covers_it(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    sim.faults.stream_connection_limit(ConnectionLimit.CLOSE_OLDER)
    sim.faults.script_quote("AAPL", **RESTING)
    harness = EngineHarness(sim, settings=fast_settings(step_wait_ms=STEP_WAIT_MS))
    acked: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def note_ack(event: ProgressEvent) -> None:
        order = event.order
        if order is not None and order.broker_id is not None and not acked.done():
            assert order.order_type is OrderType.LIMIT, "the sell walks: its first limit rests"
            acked.set_result(order.client_order_id)

    async def take_the_slot_while_it_fills() -> aiohttp.ClientWebSocketResponse:
        async with asyncio.timeout(WAIT_S):
            await acked
        other = await hold_the_slot(session, sim, listen=False)  # the plan's stream closed
        async with asyncio.timeout(WAIT_S):
            await sim.hub.replaced.wait_at_least(1)
        # The other client keeps the slot until the fill is done (under CLOSE_OLDER the plan's
        # reconnect would take it back at once, before a fill the sim may make asynchronous).
        sim.faults.stream_connection_limit(ConnectionLimit.REFUSE_HANDSHAKE)
        sim.faults.script_quote("AAPL", **CROSSED)
        sim.venue.tick()
        await until_sim(sim, lambda: sim_status(sim, acked.result()) == "filled")
        sim.faults.stream_connection_limit(ConnectionLimit.CLOSE_OLDER)
        return other

    listening_at_fill: list[int] = []

    def note_listeners(update: dict[str, Any]) -> None:
        if update["event"] == "fill":
            listening_at_fill.append(sim.hub.listening_count)

    unsubscribe = sim.venue.subscribe(note_listeners)
    async with asyncio.timeout(WAIT_S):
        outcome, other = await asyncio.gather(
            harness.run(
                plan_detail(a_sell(), plan_time(sim)), budget_s=NEVER_S, on_progress=note_ack
            ),
            take_the_slot_while_it_fills(),
        )
    unsubscribe()

    cid = acked.result()
    assert listening_at_fill == [0], "the plan's stream could not hear the fill"
    assert sim.hub.replaced.value >= 1
    assert reads_of(sim, cid), "the fill the plan's stream missed was read by REST"
    assert_plan_correct(sim, outcome)
    await other.close()
