"""The `ExecutionResult` event detail, kept within EventBridge's 256 KB entry limit.

Entry size is computed as EventBridge does: 14 bytes for `Time`, plus the UTF-8 bytes of
`Source`, `DetailType` and `Detail`. A result too big for one entry is trimmed in two steps,
each still a valid `ExecutionResult`: first every item's child orders are left out (they are in
`orders.jsonl`), then, if that is not enough, the items themselves (the summary stays). The
`reason` then says what was left out and where the full detail lives.
"""

import json
from dataclasses import dataclass
from typing import Any, Final

from plan_executor.domain.results import LEDGER_ONLY_FIELDS, MAX_REASON_CHARS, ExecutionResult

MAX_ENTRY_BYTES: Final = 256 * 1024
TIME_FIELD_BYTES: Final = 14
_SEPARATOR: Final = "; "


@dataclass(frozen=True, slots=True)
class FittedDetail:
    detail: str
    trimmed: bool


def entry_bytes(source: str, detail_type: str, detail: str) -> int:
    """Size of a PutEvents entry that sets Time, Source, DetailType and Detail."""
    return (
        TIME_FIELD_BYTES + len(source.encode()) + len(detail_type.encode()) + len(detail.encode())
    )


def _where_full_detail_is(result: ExecutionResult) -> str:
    if result.ledger is None:
        return "the ledger was not written: see the dead-letter queue"
    return f"full detail in s3://{result.ledger.bucket}/{result.ledger.keys[0]}"


def _with_note(result: ExecutionResult, left_out: str) -> str:
    note = (
        f"trimmed to fit the EventBridge entry limit ({left_out} left out); "
        f"{_where_full_detail_is(result)}"
    )
    if not result.reason:
        return note[:MAX_REASON_CHARS]
    room = MAX_REASON_CHARS - len(note) - len(_SEPARATOR)
    if room <= 0:
        return note[:MAX_REASON_CHARS]
    return result.reason[:room] + _SEPARATOR + note


def _without_child_orders(result: ExecutionResult) -> ExecutionResult:
    orders = tuple(order.model_copy(update={"child_orders": ()}) for order in result.orders)
    reason = _with_note(result, "child orders")
    return result.model_copy(update={"orders": orders, "reason": reason})


def _without_orders(result: ExecutionResult) -> ExecutionResult:
    reason = _with_note(result, "per-item orders")
    return result.model_copy(update={"orders": (), "reason": reason})


def fit_detail(
    result: ExecutionResult, *, source: str, detail_type: str, limit: int = MAX_ENTRY_BYTES
) -> FittedDetail:
    """The detail JSON (Decimals as strings), trimmed if needed; ValueError if nothing fits."""
    full = result.model_dump_json(exclude=set(LEDGER_ONLY_FIELDS))
    if entry_bytes(source, detail_type, full) <= limit:
        return FittedDetail(full, trimmed=False)
    for trim in (_without_child_orders, _without_orders):
        detail = trim(result).model_dump_json(exclude=set(LEDGER_ONLY_FIELDS))
        if entry_bytes(source, detail_type, detail) <= limit:
            return FittedDetail(detail, trimmed=True)
    raise ValueError(f"even a trimmed result exceeds the {limit}-byte entry limit")


def fit_compat_detail(detail: dict[str, Any], source: str, detail_type: str, limit: int) -> str:
    """An alchemiser-shaped detail as JSON; its per-item order lists are emptied (and
    `orders_left_out` set) when it would not fit one entry."""
    text = json.dumps(detail)
    if entry_bytes(source, detail_type, text) <= limit:
        return text
    trimmed = {**detail, "orders_executed": [], "orders_left_out": True}
    if "execution_data" in detail:
        trimmed["execution_data"] = {**detail["execution_data"], "orders": []}
    return json.dumps(trimmed)
