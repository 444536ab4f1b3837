"""Live progress of one invocation, one short line per event: phases, each child order sent,
and each order's state changes that matter to a trader (fills and ends). Acknowledgements
(accepted, new, pending_cancel) are left out: they are in the raw log.
"""

from collections.abc import Callable
from typing import Any, Final, TextIO

_QUIET_STATES: Final = frozenset({"accepted", "new", "pending_new", "pending_cancel"})
_LEVELS_SHOWN: Final = frozenset({"WARNING", "ERROR", "CRITICAL"})
INDENT: Final = "  "


class ProgressPrinter:
    """Writes each tagged line of the function's output as it arrives."""

    def __init__(self, out: TextIO, started_at: float) -> None:
        self._out = out
        self._started_at = started_at
        self._last_per_order: dict[str, str] = {}

    def __call__(self, line: dict[str, Any]) -> None:
        text = progress_text(line)
        if text is None or self._repeats(line, text):
            return
        elapsed = float(line.get("at", self._started_at)) - self._started_at
        self._out.write(f"{INDENT}{max(elapsed, 0.0):5.1f}s  {text}\n")
        self._out.flush()

    def _repeats(self, line: dict[str, Any], text: str) -> bool:
        """An order's news that changes nothing shown (e.g. a fill first read over REST, then
        named by the stream) is not printed twice."""
        order = line.get("client_order_id")
        if order is None:
            return False
        if self._last_per_order.get(str(order)) == text:
            return True
        self._last_per_order[str(order)] = text
        return False


def progress_text(line: dict[str, Any]) -> str | None:
    """The text for one tagged line, or None when it is not worth a line."""
    if line.get("replay") == "log":
        if line.get("level") not in _LEVELS_SHOWN:
            return None
        return f"{str(line['level']).lower()}: {line.get('message', '')} ({line.get('logger')})"
    kind = line.get("progress")
    render = _RENDERERS.get(str(kind))
    return None if render is None else render(line)


def _phase_started(line: dict[str, Any]) -> str:
    detail = line.get("detail") or ""
    return f"{line.get('phase', '')}{': ' + detail if detail else ''}".rstrip() + " ..."


def _phase_ended(line: dict[str, Any]) -> str:
    detail = line.get("detail") or "done"
    return f"{line.get('phase', '')}: {detail}"


def _order(line: dict[str, Any]) -> str | None:
    state = str(line.get("order_status", ""))
    if state in _QUIET_STATES:
        return None
    who = f"{INDENT}{short_order_id(str(line.get('client_order_id', '')))}"
    side = str(line.get("side", "")).upper()
    if state == "pending_submit":
        limit = line.get("limit_price")
        price = f"limit {limit}" if limit else "market"
        return f"{who} {side} {line.get('qty')} {line.get('symbol')} {price}"
    filled = line.get("filled_qty")
    if state in {"filled", "partially_filled"}:
        return f"{who} {state} {filled} of {line.get('qty')}"
    return f"{who} {state}{'' if filled in (None, '0') else f' (filled {filled})'}"


def short_order_id(client_order_id: str) -> str:
    """`4e3fce5fc0-AAPL-s-1` -> `AAPL-s-1`: the plan hash is the same on every line."""
    head, _, rest = client_order_id.partition("-")
    return rest if rest and len(head) >= 8 else client_order_id


_RENDERERS: Final[dict[str, Callable[[dict[str, Any]], str | None]]] = {
    "phase_started": _phase_started,
    "phase_ended": _phase_ended,
    "order": _order,
}
