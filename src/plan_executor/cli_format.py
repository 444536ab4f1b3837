"""Human-readable text for `plan-executor check`: aligned columns, OK / REJECTED per file."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from plan_executor.domain.enums import Action
from plan_executor.domain.events import RebalancePlannedEvent
from plan_executor.domain.plan import PlanItem, RebalancePlan
from plan_executor.domain.validation import Violation

INDENT = "  "
_CENTS_EXPONENT = -2


def money(amount: Decimal) -> str:
    """Thousands separators, at least two decimals, never rounded: -3,234.56, 0.005."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > _CENTS_EXPONENT:
        amount = amount.quantize(Decimal(1).scaleb(_CENTS_EXPONENT))
    return f"{amount:,f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """Rows padded to the widest cell per column; columns in `right` right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        )
        return (INDENT + "  ".join(padded)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def accepted_lines(path: str, event: RebalancePlannedEvent, now: datetime) -> list[str]:
    """What an accepted event's plan asks for."""
    detail = event.detail
    plan = detail.rebalance_plan
    age = (now - plan.timestamp).total_seconds()
    lines = [
        f"OK        {path}",
        f"{INDENT}plan {plan.plan_id}  ({len(plan.items)} items, schema {plan.schema_version})",
        f"{INDENT}urgency {plan.execution_urgency.value}   "
        f"trades_required {'yes' if detail.trades_required else 'no'}   "
        f"plan age {age:.0f}s as of {_utc_text(now)}",
    ]
    if not detail.trades_required:
        lines.append(f"{INDENT}trades_required is false: succeeds with zero orders")
    lines.extend(_item_table(plan.items))
    lines.extend(_totals(plan))
    return lines


def rejected_lines(path: str, violations: Sequence[Violation], total: int) -> list[str]:
    """Why an event is refused: field, rule and message per violation."""
    rows = [(v.field, v.rule, v.message) for v in violations]
    lines = [f"REJECTED  {path}", *table(("FIELD", "RULE", "WHY"), rows, right=set())]
    if total > len(violations):
        lines.append(f"{INDENT}... and {total - len(violations)} more")
    return lines


def unreadable_lines(path: str, problem: str) -> list[str]:
    return [f"UNREADABLE {path}: {problem}"]


def summary_line(ok: int, rejected: int, unreadable: int) -> str:
    files = ok + rejected + unreadable
    text = f"{files} file{'s' if files != 1 else ''}: {ok} OK, {rejected} REJECTED"
    return text + (f", {unreadable} unreadable" if unreadable else "")


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _item_table(items: Sequence[PlanItem]) -> list[str]:
    header = ("#", "SYMBOL", "ACTION", "TRADE AMOUNT", "PRIORITY", "NOTE")
    rows = [
        (
            str(index),
            item.symbol,
            item.action.value,
            money(item.trade_amount),
            str(item.priority),
            "full exit" if item.is_full_exit else "",
        )
        for index, item in enumerate(items)
    ]
    return table(header, rows, right={0, 3, 4})


def _totals(plan: RebalancePlan) -> list[str]:
    rows = [
        ("sells", str(len(plan.items_for(Action.SELL))), money(plan.notional_for(Action.SELL))),
        ("buys", str(len(plan.items_for(Action.BUY))), money(plan.notional_for(Action.BUY))),
        ("holds", str(len(plan.items_for(Action.HOLD))), ""),
    ]
    return table(("SIDE", "ITEMS", "NOTIONAL"), rows, right={1, 2})
