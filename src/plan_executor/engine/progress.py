"""Progress reports for a caller that shows long work (a CLI): phases and order events.

The callback is optional and must never break an execution: its exceptions are logged and
dropped.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from plan_executor.domain.child_order import ChildOrder

logger = logging.getLogger(__name__)


class Phase(StrEnum):
    GUARDS = "guards"
    RECONCILE = "reconcile"
    OPEN_ORDERS = "open_orders"
    SELLS = "sells"
    SETTLEMENT = "settlement"
    BUYS = "buys"
    CLEANUP = "cleanup"


class ProgressKind(StrEnum):
    PHASE_STARTED = "phase_started"
    PHASE_ENDED = "phase_ended"
    ORDER_CHANGED = "order_changed"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    kind: ProgressKind
    phase: Phase | None = None
    order: ChildOrder | None = None
    detail: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class ProgressReporter:
    """Sends progress events to an optional callback, shielding the engine from it."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback

    def phase_started(self, phase: Phase, detail: str = "") -> None:
        self._send(ProgressEvent(ProgressKind.PHASE_STARTED, phase=phase, detail=detail))

    def phase_ended(self, phase: Phase, detail: str = "") -> None:
        self._send(ProgressEvent(ProgressKind.PHASE_ENDED, phase=phase, detail=detail))

    def order_changed(self, order: ChildOrder) -> None:
        self._send(ProgressEvent(ProgressKind.ORDER_CHANGED, order=order, detail=order.status))

    def _send(self, event: ProgressEvent) -> None:
        if self._callback is None:
            return
        try:
            self._callback(event)
        except Exception:
            logger.exception("progress callback failed; execution continues")
