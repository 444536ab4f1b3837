"""Within an inside-spread step the working order follows a price that runs away from us (same
step, remainder only, bounded per step); a move toward us leaves it working."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.enums import ItemStatus
from plan_executor.domain.quotes import Quote

from .builders import Harness, fast_settings, item, plan_detail
from .fakes import FakeOrder


def _peg_harness(*, step_wait_ms: int, max_repegs: int = 3) -> Harness:
    return Harness(
        settings=fast_settings(
            step_wait=timedelta(milliseconds=step_wait_ms),
            peg_check_interval=timedelta(milliseconds=5),
            max_repegs_per_step=max_repegs,
            quote_batch_window=timedelta(0),
        )
    )


def _after_first_submit(h: Harness, on_read: Callable[[str, int], None]) -> None:
    """From the first accepted order on, `on_read(symbol, n)` runs before each quote read
    (n = 1, 2, ...), so it can move the book that read returns."""
    read = h.market.read
    reads, installed = 0, False

    def counted(symbol: str) -> Quote | None:
        nonlocal reads
        reads += 1
        on_read(symbol, reads)
        return read(symbol)

    def install(_: FakeOrder) -> None:
        nonlocal installed
        if not installed:
            installed = True
            h.market.read = counted  # type: ignore[method-assign]

    h.broker.after_submit.append(install)


def _on_submit(h: Harness, n: int, act: Callable[[FakeOrder], None]) -> None:
    """`act` on the n-th accepted order (1 = the first)."""
    seen = 0

    def hook(order: FakeOrder) -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            act(order)

    h.broker.after_submit.append(hook)


async def test_a_sell_follows_a_falling_price_within_the_step_sending_only_the_remainder() -> None:
    h = _peg_harness(step_wait_ms=5000)
    h.listed("AAPL", "100.00", "100.20")
    h.broker.hold("AAPL", "100")
    h.broker.accept_fills["AAPL"] = [Decimal(30)]  # the mid order fills 30 on arrival

    def fall_once(symbol: str, n: int) -> None:
        if n == 1:
            h.market.set_quote(symbol, "99.90", "100.10")

    _after_first_submit(h, fall_once)
    _on_submit(h, 2, lambda order: h.market.set_quote(order.symbol, "100.00", "100.10"))

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "10000", target_weight="0")]))

    first, second = h.broker.submitted_for("AAPL")
    # The same step (mid) priced from the live quote: 100.00 (step 1 would be 99.95).
    assert (first.limit_price, first.qty) == (Decimal("100.10"), Decimal(100))
    assert (second.limit_price, second.qty) == (Decimal("100.00"), Decimal(70))
    assert h.broker.cancel_requests == [first.client_order_id]
    result = outcome.result.orders[0]
    assert result.repegs == 1
    assert result.status is ItemStatus.FILLED


async def test_a_move_toward_us_leaves_the_order_working() -> None:
    h = _peg_harness(step_wait_ms=5000)
    h.listed("AAPL", "100.00", "100.20")
    looked = asyncio.Event()

    def come_toward(symbol: str, n: int) -> None:
        if n == 1:  # the step's price from this quote: 100.05, below the working 100.10
            h.market.set_quote(symbol, "99.95", "100.15")
        if n == 3:  # seen three times without a re-peg: let the ask reach the order
            loop = asyncio.get_running_loop()
            loop.call_soon(h.market.set_quote, symbol, "99.95", "100.10")
            looked.set()

    _after_first_submit(h, come_toward)

    outcome = await h.run(plan_detail([item("AAPL", "BUY", "1000")]))

    assert looked.is_set()
    (only,) = h.broker.submitted_for("AAPL")
    assert only.limit_price == Decimal("100.10")
    assert h.broker.cancel_requests == []
    result = outcome.result.orders[0]
    assert result.repegs == 0
    assert result.status is ItemStatus.FILLED


async def test_re_pegs_within_one_step_are_bounded() -> None:
    h = _peg_harness(step_wait_ms=300, max_repegs=2)
    h.listed("AAPL", "100.00", "100.20")
    books = {1: ("100.10", "100.30"), 2: ("100.20", "100.40"), 3: ("100.30", "100.50")}

    def run_away(symbol: str, n: int) -> None:
        if n in books:
            h.market.set_quote(symbol, *books[n])

    _after_first_submit(h, run_away)
    _on_submit(h, 4, lambda order: h.market.set_quote(order.symbol, "100.30", "100.45"))

    outcome = await h.run(plan_detail([item("AAPL", "BUY", "1000")]))

    limits = [request.limit_price for request in h.broker.submitted_for("AAPL")]
    # Two re-pegs at the mid of the live quote, then none within the step although the price
    # ran on: the next order is step 1's (75 % of 100.30-100.50), not the mid's 100.40.
    assert limits == [Decimal("100.10"), Decimal("100.20"), Decimal("100.30"), Decimal("100.45")]
    result = outcome.result.orders[0]
    assert result.repegs == 3
    assert result.status is ItemStatus.FILLED
