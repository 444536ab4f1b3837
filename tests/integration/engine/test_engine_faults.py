"""Broker faults during a run: each ends correctly, before its deadline, with no order placed
twice and a result that is the sim's record."""

import asyncio

from engine_sim_views import (
    ORDERS_PATH,
    api_log,
    assert_result_matches_sim,
    open_orders,
    orders_of,
    placed_twice,
    sent_twice,
    sim_orders,
)
from engine_support import (
    BUDGET_S,
    CLOSE_BOUND_S,
    SEED,
    EngineHarness,
    deadline_s,
    fast_settings,
    full_exit,
    item,
    plan_detail,
    plan_time,
)
from tests.support.run_deadline import RunDeadline
from tests.support.steppable_loop import run_on_steppable_loop

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.engine.models import ExecutionOutcome
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind

QUOTES_PATH = "/v2/stocks/quotes/latest"
GIVEN_UP_QUOTE_CALLS = 2


MIXED = (
    item("AAPL", "SELL", "2000"),
    item("NVDA", "SELL", "1500"),
    item("MSFT", "BUY", "1500"),
    item("GOOGL", "BUY", "1000"),
)


def assert_ended_cleanly(
    sim: SimServer, harness: EngineHarness, outcome: ExecutionOutcome, budget_s: float
) -> None:
    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert harness.last_run_s <= deadline_s(harness.settings, budget_s)
    assert placed_twice(sim) == []
    assert open_orders(sim) == []
    for order in outcome.result.orders:
        assert order.status is ItemStatus.FILLED
        assert_result_matches_sim(sim, order)


async def test_a_504_after_the_sim_committed_a_submit_is_found_not_resent(
    sim: SimServer, harness: EngineHarness
) -> None:
    sim.faults.fail_next(504, method="POST", path=ORDERS_PATH, phase="after")

    outcome = await harness.run(plan_detail(MIXED, plan_time(sim)), budget_s=BUDGET_S)

    assert_ended_cleanly(sim, harness, outcome, BUDGET_S)
    [lost] = [e for e in api_log(sim, "POST", ORDERS_PATH) if e["status"] == 504]
    cid = lost["client_order_id"]
    assert [o["client_order_id"] for o in sim_orders(sim)].count(cid) == 1
    looked_up = api_log(sim, "GET", "/v2/orders:by_client_order_id")
    assert any(e["query"].get("client_order_id") == cid for e in looked_up)
    assert sent_twice(sim) == []


async def test_a_hung_quote_call_times_out_and_the_plan_goes_on(sim: SimServer) -> None:
    harness = EngineHarness(sim, http_timeout_s=0.5)
    sim.faults.hang(method="GET", path=QUOTES_PATH, count=1)

    outcome = await harness.run(plan_detail(MIXED, plan_time(sim)), budget_s=BUDGET_S)

    assert_ended_cleanly(sim, harness, outcome, BUDGET_S)
    assert sent_twice(sim) == []
    assert sim.faults.describe() == [], "the hang was used up"
    assert sim.faults.held_now == 0, "and the hung request was given up"


def test_quote_calls_that_hang_for_good_end_at_the_deadline_with_no_order() -> None:
    run_on_steppable_loop(_quotes_hang_for_good())


async def _quotes_hang_for_good() -> None:
    """The deadline is brought by the test once the sells have lived through two given-up
    quote calls (a failed read and a second try), so load cannot bring it sooner."""
    async with SimServer(seed=SEED, speed=1.0) as sim:
        deadline = RunDeadline(BUDGET_S)
        sells_started: list[ProgressEvent] = []
        given_up: list[float] = []

        def note_sells(event: ProgressEvent) -> None:
            deadline(event)
            if event.kind is ProgressKind.PHASE_STARTED and event.phase is Phase.SELLS:
                sells_started.append(event)

        async def back_off(seconds: float) -> None:  # the broker's pause after a failed call
            if sells_started:
                given_up.append(seconds)
            if len(given_up) >= GIVEN_UP_QUOTE_CALLS:
                deadline.come()
            await asyncio.sleep(seconds)

        harness = EngineHarness(sim, sleep=back_off, http_timeout_s=0.5, retry_attempts=2)
        sim.faults.hang(method="GET", path=QUOTES_PATH, count=None)

        outcome = await harness.run(
            plan_detail(MIXED, plan_time(sim)), budget_s=BUDGET_S, on_progress=note_sells
        )

        assert deadline.came, "the sells never gave up a quote call"
        assert harness.last_run_s <= deadline_s(harness.settings, BUDGET_S)
        assert outcome.result.status is ExecutionStatus.TIMED_OUT
        assert api_log(sim, "POST", ORDERS_PATH) == []
        assert all(not order.child_orders for order in outcome.result.orders)
        sim.faults.clear()


async def test_a_dropped_stream_is_covered_by_polling_and_nothing_is_resent(
    sim: SimServer,
) -> None:
    harness = EngineHarness(sim, settings=fast_settings(step_wait_ms=400))
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # the first limit rests
    dropped: list[int] = []

    def drop_then_fill(event: ProgressEvent) -> None:
        order = event.order
        if order is None or order.broker_id is None or dropped:
            return
        dropped.append(sim.faults.drop_streams(refuse_seconds=0.3))
        sim.faults.script_quote("AAPL", bid="271.60", ask="271.70")  # it fills, unheard

    outcome = await harness.run(
        plan_detail([full_exit("AAPL", "6100")], plan_time(sim)),
        budget_s=BUDGET_S,
        on_progress=drop_then_fill,
    )

    assert dropped == [1]
    assert_ended_cleanly(sim, harness, outcome, BUDGET_S)
    [order] = orders_of(sim, "AAPL")
    assert order["status"] == "filled"
    reads = api_log(sim, "GET", "/v2/orders:by_client_order_id")
    assert any(e["query"].get("client_order_id") == order["client_order_id"] for e in reads)
    assert sent_twice(sim) == []
    await asyncio.wait_for(sim.hub.wait_listening(0), CLOSE_BOUND_S)


class StormClock:
    """The sim limiter's wall clock. Backing off moves it on, as the real wait would (only the
    limiter's window sees this time; the run itself is timed by the event loop)."""

    def __init__(self, start: float, per_backoff_s: float) -> None:
        self.now = start
        self.per_backoff_s = per_backoff_s
        self.backoffs: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def backoff(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        self.now += self.per_backoff_s
        await asyncio.sleep(seconds)


async def test_a_429_storm_is_waited_out_without_a_duplicate_order() -> None:
    clock = StormClock(start=1_000_000.0, per_backoff_s=20.0)
    async with SimServer(seed=11, speed=1.0, wall=clock) as sim:
        harness = EngineHarness(sim, sleep=clock.backoff, retry_attempts=5)

        def storm(event: ProgressEvent) -> None:
            # Another client spends the whole minute's budget just as our sells start.
            if event.kind is ProgressKind.PHASE_STARTED and event.phase is Phase.SELLS:
                for bucket in (f"trading:{sim.api_key}", f"data:{sim.api_key}"):
                    while sim.limiter.hit(bucket).allowed:
                        pass

        outcome = await harness.run(
            plan_detail(MIXED, plan_time(sim)), budget_s=BUDGET_S, on_progress=storm
        )

        assert_ended_cleanly(sim, harness, outcome, BUDGET_S)
        refused = [e for e in api_log(sim) if e["status"] == 429]
        assert len(refused) >= 2
        assert clock.backoffs
        assert all(e["fault"] == "rate_limit" for e in refused)
