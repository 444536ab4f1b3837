"""Sells, settlement, buys: ordering, buying power, skips, and per-item failure."""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.enums import ChildOrderStatus, ExecutionStatus, ItemStatus, Side
from plan_executor.domain.ledger import CancelReason, LedgerCancellationLine, LedgerLine
from plan_executor.ports import BrokerUnavailable, OrderRejected

from .builders import T0, Harness, fast_settings, item, plan_detail
from .fake_market import Book


def _other_holdings(h: Harness) -> None:
    """Equity outside the plan, so the plan stays within the equity-fraction rail."""
    h.listed("SPY", "100.00", "100.01")
    h.broker.hold("SPY", "200")


def _sides_by_id(h: Harness) -> dict[str, Side]:
    return {request.client_order_id: request.side for request in h.broker.submitted}


async def test_sells_fill_before_any_buy_is_submitted() -> None:
    h = Harness()
    for symbol in ("AAPL", "NVDA"):
        h.listed(symbol, "100.00", "100.10")
        h.broker.hold(symbol, "50")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.cash = Decimal(0)
    h.broker.accept_fills["AAPL"] = [Decimal(10)]  # a partial fill, then the walk continues
    detail = plan_detail(
        [item("AAPL", "SELL", "3000"), item("MSFT", "BUY", "4000"), item("NVDA", "SELL", "2000")]
    )

    outcome = await h.run(detail)

    sides = _sides_by_id(h)
    first_buy = next(i for i, (what, cid) in enumerate(h.broker.log) if sides.get(cid) is Side.BUY)
    sell_news = [i for i, (_, cid) in enumerate(h.broker.log) if sides.get(cid) is Side.SELL]
    assert sell_news
    assert max(sell_news) < first_buy
    for cid, side in sides.items():
        if side is Side.BUY:
            assert h.broker.open_same_symbol_at_submit[cid] == []
            assert not [o for o in h.broker.open_orders() if o.side is Side.SELL]
    assert [o.status for o in outcome.result.orders] == [ItemStatus.FILLED] * 3


async def test_buys_sized_from_post_sell_buying_power() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "10")
    _other_holdings(h)
    h.broker.cash = Decimal(0)
    detail = plan_detail(
        [item("AAPL", "SELL", "5000", target_weight="0"), item("MSFT", "BUY", "5000")]
    )

    outcome = await h.run(detail)

    sell, buy = outcome.result.orders
    released = sell.filled_notional
    assert released > 0
    spendable = released * (1 - h.settings.buy_reserve_fraction)
    assert 0 < buy.filled_notional <= spendable
    assert buy.status is ItemStatus.PARTIALLY_FILLED
    assert buy.reason is not None
    assert "reduced" in buy.reason
    assert outcome.result.status is ExecutionStatus.PARTIAL_SUCCESS


async def test_buys_share_short_buying_power_by_priority() -> None:
    h = Harness()
    h.listed("MSFT", "100.00", "100.10")
    h.listed("GOOGL", "100.00", "100.10")
    h.broker.cash = Decimal(3000)
    _other_holdings(h)
    detail = plan_detail(
        [item("GOOGL", "BUY", "2500", priority=2), item("MSFT", "BUY", "2500", priority=1)]
    )

    outcome = await h.run(detail)

    googl, msft = outcome.result.orders
    assert msft.status is ItemStatus.FILLED
    assert googl.status is ItemStatus.PARTIALLY_FILLED
    assert googl.filled_notional < msft.filled_notional


async def test_zero_released_buying_power_does_not_abort() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "10")
    h.broker.buying_power_override = Decimal(0)
    detail = plan_detail([item("AAPL", "SELL", "500"), item("MSFT", "BUY", "1000")])

    outcome = await h.run(detail)

    sell, buy = outcome.result.orders
    assert sell.status is ItemStatus.FILLED
    assert buy.status is ItemStatus.SKIPPED
    assert buy.reason is not None
    assert "no_funds_left" in buy.reason
    assert outcome.result.status is ExecutionStatus.SUCCESS_WITH_SKIPS
    assert outcome.ledger_lines
    assert {line.symbol for line in outcome.ledger_lines} == {"AAPL"}


async def test_buy_below_minimum_is_skipped_with_reason() -> None:
    h = Harness()
    h.listed("MSFT", "200.00", "200.20")
    outcome = await h.run(plan_detail([item("MSFT", "BUY", "0.50")]))

    (buy,) = outcome.result.orders
    assert buy.status is ItemStatus.SKIPPED
    assert buy.reason is not None
    assert "below_min_notional" in buy.reason
    assert h.broker.submitted == []


async def test_whole_share_buy_leaving_less_than_a_share_is_filled() -> None:
    h = Harness()
    h.listed("BRK.B", "300.00", "300.10", fractionable=False)
    outcome = await h.run(plan_detail([item("BRK.B", "BUY", "1000")], urgency="URGENT"))

    (buy,) = outcome.result.orders
    assert buy.filled_qty == 3
    assert buy.status is ItemStatus.FILLED


async def test_hold_items_are_skipped_without_orders() -> None:
    h = Harness()
    h.listed("MSFT", "200.00", "200.20")
    h.listed("AMZN", "150.00", "150.10")
    outcome = await h.run(plan_detail([item("AMZN", "HOLD", "0"), item("MSFT", "BUY", "1000")]))

    hold, buy = outcome.result.orders
    assert hold.status is ItemStatus.SKIPPED
    assert hold.child_orders == ()
    assert buy.status is ItemStatus.FILLED
    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert {request.symbol for request in h.broker.submitted} == {"MSFT"}


async def test_trades_not_required_succeeds_without_touching_the_broker() -> None:
    h = Harness()
    outcome = await h.run(plan_detail([item("MSFT", "BUY", "1000")], trades_required=False))

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert [order.status for order in outcome.result.orders] == [ItemStatus.SKIPPED]
    assert h.broker.calls == []
    assert outcome.ledger_lines == ()


async def test_only_holds_succeed_without_touching_the_broker() -> None:
    h = Harness()
    outcome = await h.run(plan_detail([item("AMZN", "HOLD", "0")]))

    assert outcome.result.status is ExecutionStatus.SUCCESS
    assert h.broker.calls == []


async def test_broker_unavailable_fails_only_that_item() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "10")
    h.broker.faults["submit"].append(BrokerUnavailable("503 after retries"))
    detail = plan_detail([item("AAPL", "SELL", "500"), item("MSFT", "BUY", "1000")])

    outcome = await h.run(detail)

    sell, buy = outcome.result.orders
    assert sell.status is ItemStatus.FAILED
    assert sell.reason is not None
    assert "503 after retries" in sell.reason
    assert buy.status is ItemStatus.FILLED
    assert outcome.result.status is ExecutionStatus.PARTIAL_SUCCESS


async def test_order_over_the_per_order_cap_is_not_sent() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "1000")  # worth ~100k; the plan's amount understates it
    outcome = await h.run(plan_detail([item("AAPL", "SELL", "5000", target_weight="0")]))

    (sell,) = outcome.result.orders
    assert sell.status is ItemStatus.FAILED
    assert sell.reason is not None
    assert "max_order_notional" in sell.reason
    assert h.broker.submitted == []


async def test_price_running_past_the_cap_stops_without_market_order() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "10")
    h.broker.broker_cancels_limits.add("AAPL")
    # Arrival at 100; every re-quote after it shows the bid 5 % lower: far past the cap.
    h.market.script(
        "AAPL", Book(Decimal("100.00"), Decimal("100.10")), Book(Decimal(95), Decimal("95.1"))
    )
    outcome = await h.run(plan_detail([item("AAPL", "SELL", "1000", target_weight="0")]))

    (sell,) = outcome.result.orders
    assert sell.market_fallback is False
    assert sell.reason is not None
    assert "no market fallback" in sell.reason
    assert all(r.limit_price is not None for r in h.broker.submitted)
    assert sell.status is ItemStatus.FAILED
    reasons = {line.reason for line in outcome.ledger_lines if line.kind == "cancellation"}
    assert CancelReason.DEADLINE not in reasons


def _cancel_reasons(lines: Sequence[LedgerLine]) -> dict[str, list[CancelReason]]:
    """Client order id -> the reasons its cancellation lines give, in order."""
    reasons: dict[str, list[CancelReason]] = {}
    for line in lines:
        if isinstance(line, LedgerCancellationLine):
            reasons.setdefault(line.client_order_id, []).append(line.reason)
    return reasons


async def test_market_order_unfilled_within_its_wait_is_cancelled_as_wait_expired() -> None:
    h = Harness()
    _other_holdings(h)
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "10")
    h.broker.unmatched.add("AAPL")  # accepted, never filled: the walk ends in a market order

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500", target_weight="0")]))

    (sell,) = outcome.result.orders
    assert sell.market_fallback is True
    assert outcome.result.status is not ExecutionStatus.TIMED_OUT
    market = [r for r in h.broker.submitted if r.limit_price is None]
    assert len(market) == 1
    reasons = _cancel_reasons(outcome.ledger_lines)
    assert reasons[market[0].client_order_id] == [CancelReason.WAIT_EXPIRED]
    assert all(CancelReason.DEADLINE not in found for found in reasons.values())
    assert h.broker.open_orders() == []


async def test_sell_still_open_after_the_settlement_wait_is_cancelled_as_wait_expired() -> None:
    h = Harness(settings=fast_settings(settle_timeout=timedelta(milliseconds=50)))
    _other_holdings(h)
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "10")
    h.broker.unmatched.add("AAPL")
    h.broker.cancel_latency_s = 0.5  # past cancel_confirm_timeout: confirmed on a later round
    # The item's work breaks while its first limit rests, leaving that order open.
    h.broker.after_submit.append(
        lambda _: h.broker.faults["latest_quotes"].append(RuntimeError("quote feed broke"))
    )

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500", target_weight="0")]))

    [first] = [r.client_order_id for r in h.broker.submitted]
    assert _cancel_reasons(outcome.ledger_lines)[first] == [CancelReason.WAIT_EXPIRED]
    assert h.broker.open_orders() == []
    assert outcome.result.status is not ExecutionStatus.TIMED_OUT


async def test_a_walk_cancel_the_broker_confirms_late_is_asked_again_not_given_up() -> None:
    h = Harness()
    _other_holdings(h)
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "10")
    h.broker.unmatched.add("AAPL")
    h.broker.cancel_latency_s = 0.5  # past cancel_confirm_timeout: each cancel confirms late

    outcome = await h.run(plan_detail([item("AAPL", "SELL", "500", target_weight="0")]))

    (sell,) = outcome.result.orders
    first = h.broker.submitted[0].client_order_id
    reasons = _cancel_reasons(outcome.ledger_lines)
    assert reasons[first] == [CancelReason.REPEG], "asked once, confirmed: no settlement cancel"
    assert all(CancelReason.DEADLINE not in found for found in reasons.values())
    assert "not confirmed" not in (sell.reason or "")
    assert len(h.broker.submitted) > 1, "the walk went on once each cancel was confirmed"
    assert h.broker.open_orders() == []


async def test_a_sell_submission_that_never_arrived_does_not_hold_the_settlement() -> None:
    h = Harness(settings=fast_settings(settle_timeout=timedelta(milliseconds=50)))
    _other_holdings(h)
    h.listed("AAPL", "100.00", "100.10")
    h.listed("MSFT", "200.00", "200.20")
    h.broker.hold("AAPL", "10")
    h.broker.faults["submit"].append(BrokerUnavailable("submit: 503"))  # never reached it
    h.broker.faults["order_by_client_id"].append(BrokerUnavailable("lookup: 503"))

    outcome = await h.run(
        plan_detail([item("AAPL", "SELL", "500"), item("MSFT", "BUY", "1000")], urgency="URGENT")
    )

    sell, buy = outcome.result.orders
    (lost,) = sell.child_orders
    assert lost.status is ChildOrderStatus.REJECTED, "found absent once asked again: over"
    assert buy.status is ItemStatus.FILLED, "the settlement went on to the buy"
    assert outcome.result.status is not ExecutionStatus.TIMED_OUT


async def test_broker_refusal_fails_the_item_with_its_reason() -> None:
    h = Harness()
    h.listed("MSFT", "200.00", "200.20")
    _other_holdings(h)
    h.broker.cash = Decimal(5000)
    h.broker.faults["submit"].append(OrderRejected("insufficient buying power", code=40310000))

    outcome = await h.run(plan_detail([item("MSFT", "BUY", "1000")]))

    (buy,) = outcome.result.orders
    assert buy.status is ItemStatus.FAILED
    assert buy.reason is not None
    assert "insufficient buying power" in buy.reason
    (child,) = buy.child_orders
    assert child.status is ChildOrderStatus.REJECTED
    assert child.broker_order_id is None


async def test_stale_arrival_quote_is_read_again() -> None:
    h = Harness()
    h.listed("MSFT", "200.00", "200.20")
    stale = Book(Decimal("150.00"), Decimal("150.10"), at=T0 - timedelta(minutes=5))
    h.market.script("MSFT", stale, Book(Decimal("200.00"), Decimal("200.20")))

    outcome = await h.run(plan_detail([item("MSFT", "BUY", "1000")], urgency="URGENT"))

    (buy,) = outcome.result.orders
    assert buy.arrival_quote is not None
    assert buy.arrival_quote.bid == Decimal("200.00")
    assert all(r.limit_price is not None and r.limit_price > 200 for r in h.broker.submitted)
