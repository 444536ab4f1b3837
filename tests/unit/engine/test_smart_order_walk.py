"""The walk's step boundaries: a step that asks for the working price keeps the order resting
(no cancel, no replacement, its place in the queue kept); any other ends it first."""

import asyncio
from decimal import Decimal

from plan_executor.domain.enums import ItemStatus, OrderType
from plan_executor.domain.quotes import Quote

from .builders import Harness, fast_settings, item, plan_detail
from .fake_market import Book
from .fakes import FakeOrder


def _walks_at_one_tick() -> Harness:
    """A harness whose items walk even at a one-tick spread (the default sends those as one
    market order, docs/design.md 2.9): the walk's step rules at one tick are tested here."""
    return Harness(settings=fast_settings(walk_min_spread_ticks=1))


def _calls_between_first_submit_and_first_cancel(h: Harness) -> list[str]:
    calls = h.broker.calls
    start = calls.index("submit")
    return calls[start + 1 : calls.index("cancel", start)]


async def test_one_tick_spread_rests_one_order_through_every_inside_step() -> None:
    h = _walks_at_one_tick()
    h.listed("AAPL", "10.00", "10.01")
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "10000", target_weight="0")]))

    first, through = h.broker.submitted_for("AAPL")
    assert (first.limit_price, through.limit_price) == (Decimal("10.01"), Decimal("9.99"))
    # One quote read at the end of each inside step, the order left working in between.
    between = _calls_between_first_submit_and_first_cancel(h)
    assert between.count("latest_quotes") == 3
    assert "submit" not in between
    assert h.broker.cancel_requests == [first.client_order_id]
    result = outcome.result.orders[0]
    assert result.repegs == 1
    assert result.status is ItemStatus.FILLED


async def test_a_fill_while_resting_through_a_held_step_needs_no_cancel() -> None:
    h = _walks_at_one_tick()
    h.listed("AAPL", "10.00", "10.01")
    read = h.market.read

    def watch_step_ends(_: FakeOrder) -> None:
        # The first read after the order is out ends step 0 at an unchanged quote (a hold);
        # the ask then comes down to the working bid while it rests through step 1.
        def read_then_move(symbol: str) -> Quote | None:
            h.market.read = read
            asyncio.get_running_loop().call_soon(h.market.set_quote, symbol, "9.99", "10.00")
            return read(symbol)

        h.market.read = read_then_move  # type: ignore[method-assign]

    h.broker.after_submit.append(watch_step_ends)

    outcome = await h.run(plan_detail([item("AAPL", "BUY", "1000")]))

    (only,) = h.broker.submitted_for("AAPL")
    assert only.order_type is OrderType.LIMIT
    assert only.limit_price == Decimal("10.00")
    assert h.broker.cancel_requests == []
    result = outcome.result.orders[0]
    assert result.status is ItemStatus.FILLED
    assert result.repegs == 0
    assert result.avg_fill_price == Decimal("10.00")


async def test_a_wide_spread_walk_replaces_its_order_at_each_step() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.20")
    h.broker.hold("AAPL", "100")

    await h.run(plan_detail([item("AAPL", "SELL", "10000", target_weight="0")]))

    limits = [r.limit_price for r in h.broker.submitted_for("AAPL")]
    assert limits == [Decimal("100.10"), Decimal("100.05"), Decimal("100.01"), Decimal("99.95")]
    assert len(h.broker.cancel_requests) == 3
    assert _calls_between_first_submit_and_first_cancel(h).count("latest_quotes") == 1


async def test_an_unusable_quote_at_a_step_end_cancels_the_working_order_and_stops() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.20")
    h.broker.hold("AAPL", "100")
    one_sided = Book(Decimal("100.00"), Decimal(0))
    h.market.script("AAPL", Book(Decimal("100.00"), Decimal("100.20")), *[one_sided] * 5)

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "10000", target_weight="0")]))

    (only,) = h.broker.submitted_for("AAPL")
    assert h.broker.cancel_requests == [only.client_order_id]
    assert h.broker.open_orders() == []
    result = outcome.result.orders[0]
    assert result.reason is not None
    assert "stopped" in result.reason
    assert "ONE_SIDED" in result.reason
    assert result.market_fallback is False
