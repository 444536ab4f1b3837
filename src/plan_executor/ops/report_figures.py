"""The figures of an execution report, computed from one attempt's ledger (no rendering here).

The ledger records orders, fills, cancellations and the quotes each order was worked against,
not the engine's phase boundaries; the timeline's phases are therefore read off the orders'
times: sells from the first sell sent to the last sell ended, buys likewise, and the spans
before, between and after them (guard rails and reconcile; settlement; cleanup and ledger).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from plan_executor.domain.enums import Action, OrderType, Side
from plan_executor.domain.ledger import LedgerOrderLine
from plan_executor.domain.results import ExecutionResult, OrderResult
from plan_executor.ops.report_source import LedgerRecord

_SIDE_OF_ACTION = {Action.BUY: Side.BUY, Action.SELL: Side.SELL}


@dataclass(frozen=True, slots=True)
class SideFigures:
    side: Side
    planned: Decimal
    filled: Decimal


@dataclass(frozen=True, slots=True)
class Headline:
    """The summary at the top of the report."""

    sides: tuple[SideFigures, ...]
    orders: int
    fills: int
    cancels: int
    repegs: int

    @property
    def cancel_to_fill(self) -> Decimal | None:
        """Cancels asked for per fill (execution) reported; None when nothing filled."""
        return Decimal(self.cancels) / Decimal(self.fills) if self.fills else None


@dataclass(frozen=True, slots=True)
class Span:
    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class QuotePoint:
    time: datetime
    bid: Decimal
    ask: Decimal


@dataclass(frozen=True, slots=True)
class ChildSpan:
    """One child order's working window and its limit (None: a market order)."""

    client_order_id: str
    order_type: OrderType
    limit: Decimal | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class FillPoint:
    time: datetime
    price: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class ItemChart:
    """What one traded item's chart shows."""

    order: OrderResult
    side: Side
    arrival_mid: Decimal | None
    quotes: tuple[QuotePoint, ...]
    children: tuple[ChildSpan, ...]
    fills: tuple[FillPoint, ...]
    window: Span


def headline(record: LedgerRecord) -> Headline:
    summary = record.result.summary
    sides = (
        SideFigures(Side.SELL, summary.planned_sell_notional, summary.filled_sell_notional),
        SideFigures(Side.BUY, summary.planned_buy_notional, summary.filled_buy_notional),
    )
    orders = record.order_lines
    return Headline(
        sides=sides,
        orders=len(orders),
        fills=sum(len(line.fills) for line in orders),
        cancels=len(record.cancellations),
        repegs=summary.repegs,
    )


def phase_spans(record: LedgerRecord) -> tuple[Span, ...]:
    """The attempt's phases in time order, as the order times show them."""
    result = record.result
    start, end = result.started_at, result.completed_at
    sent = sent_this_attempt(record)
    sells, buys = _side_window(sent, Side.SELL, end), _side_window(sent, Side.BUY, end)
    worked = [window for window in (sells, buys) if window is not None]
    if not worked:
        return (Span("guard rails, no orders", start, end),)
    spans = [Span("guard rails, reconcile", start, worked[0].start)]
    if sells is not None:
        spans.append(sells)
    if sells is not None and buys is not None:
        spans.append(Span("settlement", sells.end, buys.start))
    if buys is not None:
        spans.append(buys)
    spans.append(Span("cleanup, ledger", max(w.end for w in worked), end))
    return tuple(span for span in spans if span.end >= span.start)


def item_charts(record: LedgerRecord) -> tuple[ItemChart, ...]:
    """One per item this attempt sent orders for, in the plan's order."""
    charts, sent = [], sent_this_attempt(record)
    for order in record.result.orders:
        side = _SIDE_OF_ACTION.get(order.action)
        lines = [line for line in sent if line.symbol == order.symbol and line.side == side]
        if side is not None and lines:
            charts.append(_item_chart(order, side, lines, record.result.completed_at))
    return tuple(charts)


def _item_chart(
    order: OrderResult, side: Side, lines: Sequence[LedgerOrderLine], end: datetime
) -> ItemChart:
    children = tuple(_child_span(line, end) for line in lines)
    window = Span(order.symbol, min(c.start for c in children), max(c.end for c in children))
    arrival = order.arrival_quote
    quotes = {QuotePoint(q.time, q.bid, q.ask) for line in lines for q in line.quotes}
    if arrival is not None:
        quotes.add(QuotePoint(arrival.time, arrival.bid, arrival.ask))
    return ItemChart(
        order=order,
        side=side,
        arrival_mid=None if arrival is None else arrival.mid,
        quotes=tuple(sorted(quotes, key=lambda point: point.time)),
        children=children,
        fills=tuple(fill for line in lines for fill in _fill_points(line)),
        window=window,
    )


def _child_span(line: LedgerOrderLine, end: datetime) -> ChildSpan:
    assert line.submitted_at is not None  # only sent orders are charted
    return ChildSpan(
        client_order_id=line.client_order_id,
        order_type=line.order_type,
        limit=line.limit_price,
        start=line.submitted_at,
        end=line.terminal_at or end,
    )


def _fill_points(line: LedgerOrderLine) -> list[FillPoint]:
    """A fill seen only in a REST read has no price of its own: the order's broker average
    stands for it; with neither, it cannot be placed on a price chart."""
    points = []
    for fill in line.fills:
        price = fill.price if fill.price is not None else line.avg_fill_price
        if price is not None:
            points.append(FillPoint(fill.time, price, fill.qty))
    return points


def sent_this_attempt(record: LedgerRecord) -> tuple[LedgerOrderLine, ...]:
    """Order lines this attempt sent (an earlier attempt's orders are in the ledger too)."""
    started = record.result.started_at
    return tuple(
        line
        for line in record.order_lines
        if line.submitted_at is not None and line.submitted_at >= started
    )


def _side_window(lines: Sequence[LedgerOrderLine], side: Side, end: datetime) -> Span | None:
    starts = [line.submitted_at for line in lines if line.side is side and line.submitted_at]
    if not starts:
        return None
    ends = [line.terminal_at or end for line in lines if line.side is side]
    return Span(f"{side.value}s", min(starts), max(ends))


def attempt_title(result: ExecutionResult) -> str:
    return f"plan {result.plan_id}, attempt {result.attempt}"
