"""Reads made while the broker's guard rails are checked: they overlap the rails, send nothing,
count only once every rail passed, and are made again where an open order could change them."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.support.run_deadline import RunDeadline
from tests.support.steppable_loop import run_on_steppable_loop

from plan_executor.domain.enums import ChildOrderStatus, ExecutionStatus, ItemStatus, Side
from plan_executor.engine.progress import Phase, ProgressEvent, ProgressKind
from plan_executor.ports import BrokerUnavailable

from .builders import PLAN_TIME, Harness, fast_settings, item, plan_detail, plan_order_id

GATE_S = 30.0
"""Hang guard on how long a gated broker read waits for what it is gated on (met in
milliseconds; only a read that never comes reaches it)."""
BUDGET_S = 30.0
"""Never used up by a run here: where a deadline matters, the test brings it."""


def _ready() -> Harness:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "10")
    return h


def _after(h: Harness, method: str, done: asyncio.Event) -> None:
    """`done` is set once the broker answered `method`."""
    original = getattr(h.broker, method)

    async def read(*args: Any, **kwargs: Any) -> Any:
        try:
            return await original(*args, **kwargs)
        finally:
            done.set()

    setattr(h.broker, method, read)


def _gated(h: Harness, method: str, gate: Callable[[], Awaitable[None]]) -> None:
    """`method` answers only once `gate` returned."""
    original = getattr(h.broker, method)

    async def read(*args: Any, **kwargs: Any) -> Any:
        await gate()
        return await original(*args, **kwargs)

    setattr(h.broker, method, read)


def _rails_wait_for_the_sell_reads(h: Harness) -> tuple[asyncio.Event, asyncio.Event]:
    """The rails' clock read answers only after the early positions and quotes were read, so a
    run that passes the rails proves the reads overlapped them."""
    positions_read, quotes_read = asyncio.Event(), asyncio.Event()
    _after(h, "positions", positions_read)
    _after(h, "latest_quotes", quotes_read)

    async def both_read() -> None:
        async with asyncio.timeout(GATE_S):
            await positions_read.wait()
            await quotes_read.wait()

    _gated(h, "clock", both_read)
    return positions_read, quotes_read


def _market_closed(h: Harness) -> None:
    h.broker.market_open = False


def _account_unreadable(h: Harness) -> None:
    h.broker.faults["account"].append(BrokerUnavailable("account: 503"))


def _asset_not_tradable(h: Harness) -> None:
    h.broker.add_asset("MSFT", tradable=False)


def _assets_unreadable(h: Harness) -> None:
    h.broker.faults["assets"].append(RuntimeError("unexpected payload"))


@pytest.mark.parametrize(
    ("refusal", "rail"),
    [
        (_market_closed, "market_open"),
        (_account_unreadable, "account"),
        (_asset_not_tradable, "assets"),
        (_assets_unreadable, "assets"),
    ],
)
async def test_nothing_is_sent_when_a_rail_refuses_though_reads_overlapped(
    refusal: Callable[[Harness], None], rail: str
) -> None:
    h = _ready()
    positions_read, quotes_read = _rails_wait_for_the_sell_reads(h)
    refusal(h)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500"), item("MSFT", "BUY", "500")]))

    assert positions_read.is_set()
    assert quotes_read.is_set()
    assert outcome.result.status is ExecutionStatus.REJECTED
    assert outcome.result.reason is not None
    assert outcome.result.reason.startswith(f"guard rail {rail}:")
    assert h.broker.submitted == []
    assert h.broker.cancel_requests == []
    assert h.broker.subscriptions == []
    assert outcome.ledger_lines == ()


async def test_a_refusing_rail_stops_the_early_reads_still_running() -> None:
    h = _ready()
    h.broker.market_open = False
    listing_started, listing_stopped = asyncio.Event(), asyncio.Event()

    async def never_answers() -> None:
        listing_started.set()
        try:
            await asyncio.Event().wait()
        finally:
            listing_stopped.set()

    async def rails_after_the_listing_started() -> None:
        async with asyncio.timeout(GATE_S):
            await listing_started.wait()

    _gated(h, "orders_since", never_answers)
    _gated(h, "clock", rails_after_the_listing_started)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500")]))

    assert outcome.result.status is ExecutionStatus.REJECTED
    assert listing_stopped.is_set()
    assert "positions" not in h.broker.calls
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert others == []


async def test_the_sells_use_what_was_read_alongside_the_rails() -> None:
    h = _ready()
    _rails_wait_for_the_sell_reads(h)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500")], urgency="URGENT"))

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert h.broker.calls.count("positions") == 1
    assert h.broker.calls.count("latest_quotes") == 1
    assert h.broker.calls.count("orders_since") == 2
    assert h.broker.calls.index("positions") < h.broker.calls.index("submit")


async def test_an_early_quote_too_old_where_it_is_priced_is_read_again() -> None:
    h = _ready()
    settings = fast_settings()
    h.settings = settings
    _, quotes_read = _rails_wait_for_the_sell_reads(h)

    async def age_the_early_quote() -> None:
        async with asyncio.timeout(GATE_S):
            await quotes_read.wait()
        h.clock.advance(settings.quote_max_age + timedelta(seconds=1))

    _gated(h, "account", age_the_early_quote)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500")], urgency="URGENT"))

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert h.market.reads.count("AAPL") == 2  # early, then again where it is priced
    (sell,) = outcome.result.orders
    assert sell.arrival_quote is not None
    assert h.clock.now() - sell.arrival_quote.time <= settings.quote_max_age


async def test_an_open_order_listed_early_makes_every_read_again_after_the_cancels() -> None:
    """An earlier attempt's open sell holds 4 of the 10 shares when the rails are checked. The
    listings are made again once the stream is up, and the positions only after the cancel, so
    a full exit sells all 10 shares, not the 6 that were free at first."""
    h = _ready()
    detail = plan_detail([item("AAPL", "SELL", "1000", target_weight="0")], urgency="URGENT")
    open_id = plan_order_id(detail, "AAPL", Side.SELL, 1)
    h.broker.seed_order(
        open_id, "AAPL", Side.SELL, "4", limit="105.00", status=ChildOrderStatus.NEW,
        submitted_at=PLAN_TIME,
    )  # fmt: skip
    streams_open_at_listing: list[int] = []

    async def note_streams() -> None:
        streams_open_at_listing.append(len(h.broker.feeds))

    _gated(h, "orders_since", note_streams)

    outcome = await h.run(detail)

    assert streams_open_at_listing == [0, 0, 1, 1]
    assert h.broker.calls.index("cancel") < h.broker.calls.index("positions")
    assert h.broker.calls.count("positions") == 1
    (request,) = h.broker.submitted
    assert request.qty == 10
    assert outcome.result.orders[0].status is ItemStatus.FILLED


async def test_a_foreign_open_order_listed_early_is_cancelled_from_a_fresh_listing() -> None:
    h = _ready()
    manual = h.broker.seed_order(
        "manual-aapl-buy", "AAPL", Side.BUY, "1", limit="90.00", status=ChildOrderStatus.NEW,
        submitted_at=PLAN_TIME,
    )  # fmt: skip

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500")], urgency="URGENT"))

    assert h.broker.calls.count("orders_since") == 4
    assert h.broker.cancel_requests == ["manual-aapl-buy"]
    assert manual.status is ChildOrderStatus.CANCELED
    assert h.broker.calls.index("cancel") < h.broker.calls.index("positions")
    assert outcome.result.orders[0].status is ItemStatus.FILLED


def test_an_early_read_that_never_answers_is_bounded_by_the_deadline() -> None:
    run_on_steppable_loop(_an_early_read_that_never_answers())


async def _an_early_read_that_never_answers() -> None:
    """The test brings the deadline (a steppable loop) once the rails passed while the read
    hangs, so a slow machine cannot bring it during the rails instead."""
    h = _ready()
    positions_asked, positions_stopped = asyncio.Event(), asyncio.Event()
    deadline = RunDeadline(BUDGET_S)

    async def never_answers() -> None:
        positions_asked.set()
        try:
            await asyncio.Event().wait()
        finally:
            positions_stopped.set()

    def after_the_rails(event: ProgressEvent) -> None:
        deadline(event)
        rails_passed = event.kind is ProgressKind.PHASE_ENDED and event.phase is Phase.GUARDS
        if rails_passed and positions_asked.is_set():
            deadline.come()

    _gated(h, "positions", never_answers)

    outcome = await h.run(
        plan_detail([item("AAPL", "SELL", "500")]), budget_s=BUDGET_S, on_progress=after_the_rails
    )

    assert deadline.came, "the rails passed while the positions read hung"
    assert outcome.result.status is ExecutionStatus.TIMED_OUT
    assert h.broker.submitted == []
    assert positions_stopped.is_set()
    assert h.broker.subscriptions[0].exited
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert others == []
