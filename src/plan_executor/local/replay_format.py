"""Human-readable text for `plan-executor replay`: the stack, each run's outcome, the summary
table, the result event as read back from the queue (trimmed), the ledger keys. No secret."""

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from plan_executor.cli_format import INDENT, money, table
from plan_executor.domain.results import ExecutionResult, ExecutionSummary, OrderResult
from plan_executor.local.event_time import ShiftedEvent
from plan_executor.local.readback import LedgerObject

_CENT = Decimal("0.01")


def section(title: str) -> list[str]:
    return ["", f"== {title} " + "=" * max(0, 74 - len(title))]


def event_time_line(shift: ShiftedEvent | None) -> str:
    if shift is None:
        return "event times kept as saved (--as-is): a saved plan is likely stale by now"
    if shift.offset is None:
        return "event times kept: the envelope has no usable `time` to move to now"
    return (
        f"replayed as if published now: {shift.moved} timestamps moved by"
        f" {_duration(shift.offset)} (relative ages kept); --as-is to keep the times"
    )


def stack_lines(rows: Sequence[tuple[str, str]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    return [f"{INDENT}{label.ljust(width)}  {text}" for label, text in rows]


def outcome_lines(result: ExecutionResult, *, duplicate: bool) -> list[str]:
    lines = [f"{INDENT}{result.status.value}   plan {result.plan_id}   {result.duration_ms} ms"]
    if duplicate:
        lines[0] += "   (stored result, served again)"
    if result.reason:
        lines.append(f"{INDENT}reason: {result.reason}")
    return lines


def order_table(orders: Sequence[OrderResult]) -> list[str]:
    header = ("SYMBOL", "SIDE", "PLANNED", "FILLED", "QTY", "AVG PRICE", "SLIP bps", "RE-PEGS")
    rows = [(*_order_row(order), order.status.value) for order in orders]
    return table((*header, "STATUS"), rows, right={2, 3, 4, 5, 6, 7})


def totals_lines(summary: ExecutionSummary) -> list[str]:
    shortfall = summary.implementation_shortfall_bps
    counts = (
        f"{summary.items} items: {summary.filled} filled, {summary.partially_filled} partial,"
        f" {summary.failed} failed, {summary.skipped} skipped, {summary.canceled} canceled"
    )
    return [
        f"{INDENT}{counts}",
        f"{INDENT}sold {money(_cents(summary.filled_sell_notional))} of"
        f" {money(summary.planned_sell_notional)} planned,"
        f" bought {money(_cents(summary.filled_buy_notional))} of"
        f" {money(summary.planned_buy_notional)}",
        f"{INDENT}implementation shortfall {_bps(shortfall)} bps, re-pegs {summary.repegs},"
        f" market fallbacks {summary.market_fallbacks}",
    ]


def result_event_lines(event: Mapping[str, Any]) -> list[str]:
    """The event as EventBridge delivered it, pretty, with the order list cut to one example."""
    text = json.dumps(trimmed_result_event(event), indent=2, ensure_ascii=False)
    return [INDENT + line for line in text.splitlines()]


def trimmed_result_event(event: Mapping[str, Any]) -> dict[str, Any]:
    detail = dict(event.get("detail", {}))
    orders = list(detail.get("orders") or [])
    if orders:
        first = dict(orders[0])
        children = list(first.get("child_orders") or [])
        if len(children) > 1:
            more = f"... {len(children) - 1} more child orders (all in orders.jsonl)"
            first["child_orders"] = [children[0], more]
        rest = [f"... {len(orders) - 1} more orders, as in the table above"] if orders[1:] else []
        detail["orders"] = [first, *rest]
    return {**event, "detail": detail}


def ledger_lines(bucket: str, objects: Sequence[LedgerObject]) -> list[str]:
    if not objects:
        return [f"{INDENT}(none)"]
    return [
        f"{INDENT}s3://{bucket}/{item.key}"
        + (f"  ({item.size:,} bytes)" if item.size is not None else "  MISSING")
        for item in objects
    ]


def metrics_line(metrics: Mapping[str, Sequence[float]]) -> str:
    shown = ", ".join(f"{name} {_values(values)}" for name, values in sorted(metrics.items()))
    return f"{INDENT}metrics (EMF): {shown or 'none'}"


def _order_row(order: OrderResult) -> tuple[str, ...]:
    avg = order.avg_fill_price
    return (
        order.symbol,
        order.action.value,
        money(order.planned_notional),
        money(_cents(order.filled_notional)) if order.filled_qty else "-",
        _quantity(order.filled_qty) if order.filled_qty else "-",
        money(avg) if avg is not None else "-",
        _bps(order.slippage_bps),
        str(order.repegs),
    )


def _cents(amount: Decimal) -> Decimal:
    """For display only: the result keeps every digit."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def _quantity(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bps(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _values(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:g}"
    return f"x{len(values)} (max {max(values):g})" if values else "-"


def _duration(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    seconds = int(abs(offset).total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{days}d {hours:02d}:{minutes:02d}:{seconds:02d}"
