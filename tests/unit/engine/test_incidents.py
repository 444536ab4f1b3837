"""One test per predecessor incident the engine owns (see shared/reference/predecessor-lessons)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.enums import ChildOrderStatus, ItemStatus, OrderType, Side
from plan_executor.domain.money import ZERO, dollars
from plan_executor.domain.sizing import AssetTerms, Sized, size_buy

from .builders import Harness, fast_settings, item, plan_detail
from .fake_market import Book


def _full_exit(symbol: str) -> dict[str, object]:
    return item(symbol, "SELL", "10000", target_weight="0")


async def test_incident_06_repeg_sends_only_remainder() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.accept_fills["AAPL"] = [Decimal(30), Decimal(20)]

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    sent = h.broker.submitted_for("AAPL")
    assert [request.qty for request in sent[:3]] == [Decimal(100), Decimal(70), Decimal(50)]
    filled_before = ZERO
    for request in sent:
        order = h.broker.orders[request.client_order_id]
        assert request.qty == Decimal(100) - filled_before
        filled_before += order.filled_qty
    result = outcome.result.orders[0]
    assert result.filled_qty == Decimal(100)
    assert result.status is ItemStatus.FILLED
    assert h.broker.holdings["AAPL"] == 0


async def test_incident_06_buy_repeg_sizes_the_remaining_budget() -> None:
    h = Harness()
    h.listed("MSFT", "100.00", "100.20")
    h.broker.accept_fills["MSFT"] = [Decimal(40)]

    outcome = await h.run(plan_detail([item("MSFT", "BUY", "10000")]))

    first, second = h.broker.submitted_for("MSFT")[:2]
    assert first.limit_price is not None
    assert second.limit_price is not None
    spent = Decimal(40) * first.limit_price
    terms = AssetTerms(fractionable=True, tradable=True)
    expected = size_buy(dollars(Decimal(10000) - spent), second.limit_price, terms)
    assert isinstance(expected, Sized)
    assert second.qty == expected.qty
    assert outcome.result.orders[0].filled_notional <= Decimal(10000)


async def test_incident_07_cancel_confirmed_before_replacement() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.cancel_latency_s = 0.02  # every cancel goes pending first

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    sent = h.broker.submitted_for("AAPL")
    assert len(sent) >= 2, "the walk must have re-pegged at least once"
    for request in sent:
        assert h.broker.open_same_symbol_at_submit[request.client_order_id] == []
    assert outcome.result.orders[0].status is ItemStatus.FILLED


async def test_incident_07_fill_wins_the_cancel_race() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.fill_wins_cancel.add("AAPL")

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    assert len(h.broker.submitted_for("AAPL")) == 1
    result = outcome.result.orders[0]
    assert result.filled_qty == Decimal(100)
    assert result.status is ItemStatus.FILLED
    assert result.child_orders[0].status is ChildOrderStatus.FILLED
    assert h.broker.holdings["AAPL"] == 0


async def test_a_cancel_refused_because_the_order_filled_takes_the_fill_from_the_refusal() -> None:
    """The fill's news never comes and the cancel's confirmation wait is an hour: only the
    broker's state of the order, read back with the refusal, can end the item."""
    h = Harness(settings=fast_settings(cancel_confirm_timeout=timedelta(hours=1)))
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.accept_fills["AAPL"] = [Decimal(100)]  # filled as it is accepted
    h.broker.unannounced_fills.add("AAPL")

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    assert len(h.broker.submitted_for("AAPL")) == 1
    assert h.broker.cancel_requests == [h.broker.submitted_for("AAPL")[0].client_order_id]
    result = outcome.result.orders[0]
    assert result.status is ItemStatus.FILLED
    assert result.filled_qty == Decimal(100)
    assert result.child_orders[0].status is ChildOrderStatus.FILLED


async def test_incident_08_never_repeg_same_price() -> None:
    h = Harness(settings=fast_settings(walk_min_spread_ticks=1))  # it walks at one tick too
    h.listed("AAPL", "10.00", "10.01")  # one tick wide: several steps round to one price
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    limits = [r.limit_price for r in h.broker.submitted_for("AAPL") if r.limit_price is not None]
    assert len(limits) >= 2
    assert all(a != b for a, b in itertools.pairwise(limits))
    assert outcome.result.orders[0].repegs == len(limits) - 1


async def test_incident_09_broker_cancelled_order_reaches_market_fallback() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.broker_cancels_limits.add("AAPL")

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    result = outcome.result.orders[0]
    assert result.market_fallback is True
    assert result.status is ItemStatus.FILLED
    *limits, market = result.child_orders
    assert limits
    assert all(c.status is ChildOrderStatus.CANCELED for c in limits)
    assert market.order_type is OrderType.MARKET
    assert market.filled_qty == Decimal(100)
    assert h.broker.cancel_requests == []  # the broker cancelled them, not us


async def test_incident_12_duplicate_trade_messages_counted_once() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.duplicate_stream_events = True
    h.broker.accept_fills["AAPL"] = [Decimal(30)]

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    feed = h.broker.subscriptions[0].feed
    assert feed is not None
    executions = [e.update.execution_id for e in feed.pushed if e.update.execution_id]
    assert len(executions) > len(set(executions))  # every execution really came twice
    result = outcome.result.orders[0]
    broker_filled = sum(o.filled_qty for o in h.broker.orders.values())
    assert result.filled_qty == broker_filled == Decimal(100)
    for child in result.child_orders:
        assert child.filled_qty == h.broker.orders[child.client_order_id].filled_qty
    order_lines = [line for line in outcome.ledger_lines if line.kind == "order"]
    for line in order_lines:
        assert sum(f.qty for f in line.fills) == line.filled_qty


async def test_incident_15_missing_avg_price_is_reread_not_estimated() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.stream_omits_avg_price = True

    outcome = await h.run(plan_detail([_full_exit("AAPL")], urgency="URGENT"))

    result = outcome.result.orders[0]
    (child,) = result.child_orders
    assert child.avg_fill_price == h.broker.orders[child.client_order_id].avg_price
    assert result.avg_fill_price == Decimal("100.00")
    assert "order_by_client_id" in h.broker.calls


async def test_incident_15_price_never_given_is_reported_unknown() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.broker.hold("AAPL", "100")
    h.broker.stream_omits_avg_price = True
    h.broker.rest_hides_avg_reads = 1_000

    outcome = await h.run(plan_detail([_full_exit("AAPL")], urgency="URGENT"))

    result = outcome.result.orders[0]
    assert result.filled_qty == Decimal(100)
    assert result.avg_fill_price is None
    assert result.child_orders[0].avg_fill_price is None
    assert result.filled_notional == 0
    assert result.slippage_bps is None
    assert result.reason is not None
    assert "average price unknown" in result.reason


async def test_zero_ask_quote_is_not_priced_from() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    h.market.script("AAPL", *[Book(Decimal("100.00"), Decimal(0))] * 5)
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([_full_exit("AAPL")]))

    result = outcome.result.orders[0]
    assert result.status is ItemStatus.FAILED
    assert result.reason is not None
    assert "ONE_SIDED" in result.reason
    assert h.broker.submitted == []


async def test_crossed_quote_is_requoted_then_priced_from_the_good_one() -> None:
    h = Harness()
    h.listed("AAPL", "100.00", "100.10")
    crossed, good = (
        Book(Decimal("101.00"), Decimal("100.00")),
        Book(Decimal("100"), Decimal("100.1")),
    )
    h.market.script("AAPL", crossed, good)
    h.broker.hold("AAPL", "100")

    outcome = await h.run(plan_detail([_full_exit("AAPL")], urgency="LOW"))

    first = h.broker.submitted_for("AAPL")[0]
    assert first.limit_price is not None
    assert Decimal("100.00") <= first.limit_price <= Decimal("100.10")
    arrival = outcome.result.orders[0].arrival_quote
    assert arrival is not None
    assert arrival.bid < arrival.ask
    assert first.side is Side.SELL
