"""The journal and the tracker's orders as an `ExecutionResult` and ledger lines.

Fills are the broker's: a fill whose price never arrived is counted in the filled quantity but
left out of the notional and the average (and the item says so); it is never estimated. An
item's reason is judged here from what was told and the final state (`outcome.item_reason`).
Results round money for people (`domain/results.py`); the ledger lines keep the exact fills.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import Action, ExecutionStatus, ItemStatus, Side
from plan_executor.domain.ledger import (
    LedgerCancellationLine,
    LedgerFill,
    LedgerOrderLine,
    LedgerQuote,
)
from plan_executor.domain.money import ZERO, Bps, Dollars, Price, Shares
from plan_executor.domain.outcome import (
    EARLIER_ATTEMPT_REASON,
    ItemAccount,
    ItemEnding,
    ItemProgress,
    classify_item,
    item_reason,
)
from plan_executor.domain.quotes import Quote
from plan_executor.domain.results import ArrivalQuote, ChildOrderRecord, OrderResult
from plan_executor.domain.sizing import (
    AssetTerms,
    Skip,
    capped_sell_qty,
    remaining_notional,
    size_buy,
)
from plan_executor.domain.slippage import ShortfallItem, implementation_shortfall_bps, slippage_bps
from plan_executor.engine.item_work import filled_notional
from plan_executor.engine.journal import CancellationRecord, ExecutionJournal, ItemRun
from plan_executor.engine.models import LedgerLine
from plan_executor.engine.tracker import OrderTracker

HOLD_REASON = "HOLD: nothing to trade"


@dataclass(frozen=True, slots=True)
class ItemReport:
    result: OrderResult
    shortfall: ShortfallItem | None


@dataclass(frozen=True, slots=True)
class _Fills:
    qty: Shares
    notional: Dollars
    avg: Price | None
    unpriced_qty: Shares


def item_report(
    run: ItemRun, tracker: OrderTracker, terms: AssetTerms | None, min_notional: Dollars
) -> ItemReport:
    children = [tracker.get(cid) for cid in run.all_ids]
    fills = _fills_of(children)
    status = _status(run, fills, terms, min_notional)
    earlier = [tracker.get(cid) for cid in run.earlier_ids]
    slippage = None
    shortfall = None
    if run.side is not None and fills.avg is not None and run.arrival is not None:
        slippage = slippage_bps(run.side, fills.avg, run.arrival.mid)
        shortfall = ShortfallItem(run.side, fills.avg, run.arrival.mid, fills.notional)
    result = OrderResult(
        symbol=run.symbol,
        action=run.item.action,
        planned_notional=run.item.planned_notional,
        filled_qty=fills.qty,
        avg_fill_price=fills.avg,
        filled_notional=fills.notional,
        status=status,
        arrival_quote=arrival_quote(run.arrival),
        slippage_bps=slippage,
        repegs=run.repegs,
        market_fallback=run.market_fallback,
        execution=run.execution.execution if run.execution else None,
        execution_reason=run.execution.reason if run.execution else None,
        reason=HOLD_REASON if run.side is None else _reason(run, earlier, status, fills, terms),
        strategy_id=run.item.strategy_id,
        child_orders=tuple(child_record(child) for child in children),
    )
    return ItemReport(result, shortfall)


def plan_shortfall(reports: Sequence[ItemReport]) -> Bps | None:
    return implementation_shortfall_bps(r.shortfall for r in reports if r.shortfall is not None)


def trading_statuses(reports: Sequence[ItemReport]) -> list[ItemStatus]:
    """Item statuses that decide the plan's status (HOLD items are left out)."""
    return [r.result.status for r in reports if r.result.action is not Action.HOLD]


def _status(
    run: ItemRun, fills: _Fills, terms: AssetTerms | None, min_notional: Dollars
) -> ItemStatus:
    if run.side is None:
        return ItemStatus.SKIPPED
    planned_qty = run.planned_qty
    if run.side is Side.BUY:
        # A buy is dollar-sized: complete only when its planned dollars buy nothing more (a
        # quantity fixed on the way, e.g. an earlier attempt's, is not its plan).
        complete = _buy_complete(run, fills, terms, min_notional)
        planned_qty = fills.qty if complete else None
    progress = ItemProgress(
        ending=run.ending or ItemEnding.CANCELED,
        planned_notional=run.item.planned_notional,
        filled_notional=fills.notional,
        filled_qty=fills.qty,
        planned_qty=planned_qty,
    )
    return classify_item(progress)


def _buy_complete(
    run: ItemRun, fills: _Fills, terms: AssetTerms | None, min_notional: Dollars
) -> bool:
    """A buy is complete when what is left of its planned dollars buys nothing more at its
    average price (a whole-share asset leaves up to one share's worth unspent)."""
    if fills.qty <= 0 or fills.avg is None or terms is None:
        return False
    left = Dollars(max(run.item.planned_notional - fills.notional, ZERO))
    return isinstance(size_buy(left, fills.avg, terms, min_notional=min_notional), Skip)


def _fills_of(children: Sequence[ChildOrder]) -> _Fills:
    qty, priced_qty, notional = ZERO, ZERO, ZERO
    for child in children:
        qty += child.filled_qty
        if child.filled_qty > 0 and child.avg_fill_price is not None:
            priced_qty += child.filled_qty
            notional += child.filled_qty * child.avg_fill_price
    avg = Price(notional / priced_qty) if priced_qty > 0 and priced_qty == qty else None
    return _Fills(Shares(qty), Dollars(notional), avg, Shares(qty - priced_qty))


def _reason(
    run: ItemRun,
    earlier: Sequence[ChildOrder],
    status: ItemStatus,
    fills: _Fills,
    terms: AssetTerms | None,
) -> str | None:
    account = ItemAccount(
        status=status,
        ending=run.ending or ItemEnding.CANCELED,
        told_ending=run.ending_reason,
        notes=tuple(run.notes),
        explanations=tuple(_explanations(run, earlier, status, fills, terms)),
        sent_orders=bool(run.child_ids),
    )
    return item_reason(account)


def _explanations(
    run: ItemRun,
    earlier: Sequence[ChildOrder],
    status: ItemStatus,
    fills: _Fills,
    terms: AssetTerms | None,
) -> Iterator[str]:
    capped = _capped_at_position(run, earlier, terms)
    if capped is not None:
        yield capped
    earlier_qty = sum((order.filled_qty for order in earlier), ZERO)
    if status is ItemStatus.FILLED and 0 < earlier_qty == fills.qty:
        yield EARLIER_ATTEMPT_REASON
    if fills.unpriced_qty > 0:
        yield f"average price unknown for {fills.unpriced_qty} shares"


def _capped_at_position(
    run: ItemRun, earlier: Sequence[ChildOrder], terms: AssetTerms | None
) -> str | None:
    """For a sell sized to fewer shares than its dollars ask for at the arrival mid (the
    holding was smaller): says so, with both quantities. The target is what the smart order
    fixed (`planned_qty`, earlier fills included)."""
    if run.side is not Side.SELL or run.item.is_full_exit or terms is None:
        return None
    earlier_notional = filled_notional(earlier)
    if run.planned_qty is None or run.arrival is None or earlier_notional is None:
        return None
    amount = remaining_notional(run.item.planned_notional, earlier_notional)
    target = Shares(run.planned_qty - sum((order.filled_qty for order in earlier), ZERO))
    asked = capped_sell_qty(amount, run.arrival.mid, target, terms)
    if asked is None:
        return None
    return (
        f"capped_at_position: sized to the {_plain(target)} shares held; the {amount} to sell "
        f"is {_plain(asked)} shares at the arrival mid {run.arrival.mid}"
    )


def _plain(qty: Shares) -> str:
    """A share count without trailing zeros (22.500000000 -> 22.5)."""
    return format(qty.normalize(), "f")


def arrival_quote(quote: Quote | None) -> ArrivalQuote | None:
    if quote is None:
        return None
    return ArrivalQuote(bid=quote.bid, ask=quote.ask, mid=quote.mid, time=quote.at)


def child_record(child: ChildOrder) -> ChildOrderRecord:
    return ChildOrderRecord(
        client_order_id=child.client_order_id,
        broker_order_id=child.broker_id,
        order_type=child.order_type,
        side=child.side,
        qty=child.qty,
        limit_price=child.limit_price,
        submitted_at=child.submitted_at,
        terminal_at=child.terminal_at,
        status=child.status,
        filled_qty=child.filled_qty,
        avg_fill_price=child.avg_fill_price,
    )


@dataclass(frozen=True, slots=True)
class LedgerContext:
    plan_id: str
    attempt: str
    correlation_id: str
    recorded_at: datetime


def ledger_lines(
    journal: ExecutionJournal, tracker: OrderTracker, context: LedgerContext
) -> list[LedgerLine]:
    """One line per child order of every item (earlier attempts' included) and one per
    cancellation this attempt asked for."""
    lines: list[LedgerLine] = []
    for run in journal.items:
        for cid in run.all_ids:
            quotes = _ledger_quotes(run.quotes_seen.get(cid, ()))
            lines.append(_order_line(tracker.get(cid), run.arrival, context, quotes))
    for record in journal.cancellations:
        order = tracker.get(record.client_order_id)
        arrival = journal.arrival_of(record.client_order_id)
        lines.append(_cancellation_line(record, order, arrival, context))
    return lines


def _order_line(
    child: ChildOrder,
    arrival: Quote | None,
    context: LedgerContext,
    quotes: tuple[LedgerQuote, ...],
) -> LedgerLine:
    return LedgerOrderLine(
        plan_id=context.plan_id,
        attempt=context.attempt,
        correlation_id=context.correlation_id,
        symbol=child.symbol,
        side=child.side,
        client_order_id=child.client_order_id,
        broker_order_id=child.broker_id,
        arrival_quote=arrival_quote(arrival),
        fills=_ledger_fills(child),
        recorded_at=context.recorded_at,
        order_type=child.order_type,
        qty=child.qty,
        limit_price=child.limit_price,
        status=child.status,
        submitted_at=child.submitted_at,
        terminal_at=child.terminal_at,
        filled_qty=child.filled_qty,
        avg_fill_price=child.avg_fill_price,
        quotes=quotes,
    )


def _ledger_quotes(quotes: Sequence[Quote]) -> tuple[LedgerQuote, ...]:
    return tuple(LedgerQuote(bid=quote.bid, ask=quote.ask, time=quote.at) for quote in quotes)


def _cancellation_line(
    record: CancellationRecord, order: ChildOrder, arrival: Quote | None, context: LedgerContext
) -> LedgerLine:
    return LedgerCancellationLine(
        plan_id=context.plan_id,
        attempt=context.attempt,
        correlation_id=context.correlation_id,
        symbol=record.symbol,
        side=record.side,
        client_order_id=record.client_order_id,
        broker_order_id=order.broker_id,
        arrival_quote=arrival_quote(arrival),
        fills=_ledger_fills(order),
        recorded_at=context.recorded_at,
        reason=record.reason,
        requested_at=record.requested_at,
        confirmed_at=record.confirmed_at,
        filled_qty=order.filled_qty,
    )


def _ledger_fills(child: ChildOrder) -> tuple[LedgerFill, ...]:
    """Every fill, so the lines add up to the order's filled quantity; one seen only in a REST
    read has no execution id or price (the order's broker average covers it)."""
    return tuple(
        LedgerFill(execution_id=fill.execution_id, qty=fill.qty, price=fill.price, time=fill.at)
        for fill in child.fills
    )


def plan_reason(status: ExecutionStatus, reports: Sequence[ItemReport]) -> str | None:
    """A one-line reason for anything but a clean success."""
    if status is ExecutionStatus.SUCCESS:
        return None
    troubled = [r.result for r in reports if r.result.status is not ItemStatus.FILLED]
    parts = [f"{r.symbol} {r.status}" for r in troubled if r.action is not Action.HOLD]
    return ", ".join(parts) or None
