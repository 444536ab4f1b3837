"""`REJECTED` results: nothing was sent to the broker, and the result says why.

A bad event still yields a valid result. When the input is too broken to name its plan, the ids
that cannot be trusted are reported as `unknown` rather than echoed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from plan_executor.domain.enums import ExecutionStatus, ItemStatus, TradingMode
from plan_executor.domain.events import RebalancePlannedEvent
from plan_executor.domain.identifiers import is_safe_plan_id, is_trace_id
from plan_executor.domain.money import ZERO, Dollars, Shares
from plan_executor.domain.plan import AllocationComparison, PlanItem, RebalancePlan
from plan_executor.domain.results import (
    MAX_REASON_CHARS,
    ExecutionResult,
    LedgerRef,
    OrderResult,
    duration_ms,
    summarize_orders,
)
from plan_executor.domain.validation import PlanValidationError

UNKNOWN = "unknown"
NOT_EXECUTED = "not executed: the plan was rejected"


@dataclass(frozen=True, slots=True)
class RejectionContext:
    """Who reports the rejection, when, and where: the parts that do not come from the input."""

    event_id: str
    started_at: datetime
    completed_at: datetime
    trading_mode: TradingMode
    attempt: str
    ledger: LedgerRef | None = None


@dataclass(frozen=True, slots=True)
class SalvagedIds:
    """Ids read from an event that failed validation, each `unknown` unless well-formed."""

    causation_id: str
    correlation_id: str
    plan_id: str


def rejected_result(
    context: RejectionContext,
    *,
    reason: str,
    ids: SalvagedIds,
    plan: RebalancePlan | None = None,
    allocation_comparison: AllocationComparison | None = None,
) -> ExecutionResult:
    """A REJECTED result; with a plan, every item is listed as SKIPPED with no orders."""
    orders = tuple(untraded_result(item, NOT_EXECUTED) for item in plan.items) if plan else ()
    clipped = reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 3] + "..."
    return ExecutionResult(
        event_id=context.event_id,
        correlation_id=ids.correlation_id,
        causation_id=ids.causation_id,
        plan_id=ids.plan_id,
        status=ExecutionStatus.REJECTED,
        reason=clipped,
        trading_mode=context.trading_mode,
        started_at=context.started_at,
        completed_at=context.completed_at,
        duration_ms=duration_ms(context.started_at, context.completed_at),
        attempt=context.attempt,
        orders=orders,
        summary=summarize_orders(orders, implementation_shortfall_bps=None),
        ledger=context.ledger,
        allocation_comparison=allocation_comparison,
    )


def rejected_result_for_event(
    context: RejectionContext, event: RebalancePlannedEvent, *, reason: str
) -> ExecutionResult:
    """A valid event refused before any order (stale plan, market closed, kill switch...)."""
    plan = event.detail.rebalance_plan
    ids = SalvagedIds(
        causation_id=event.id, correlation_id=plan.correlation_id, plan_id=plan.plan_id
    )
    return rejected_result(
        context,
        reason=reason,
        ids=ids,
        plan=plan,
        allocation_comparison=event.detail.allocation_comparison,
    )


def rejected_result_for_invalid_event(
    context: RejectionContext, error: PlanValidationError, raw_event: object
) -> ExecutionResult:
    """An event that failed validation: reason from the error, ids salvaged where safe."""
    return rejected_result(context, reason=error.reason, ids=salvage_ids(raw_event))


def salvage_ids(raw_event: object) -> SalvagedIds:
    """Best-effort ids from a raw envelope (or a bare detail); never echoes a malformed one."""
    envelope = raw_event if isinstance(raw_event, Mapping) else {}
    detail = envelope.get("detail") if "detail" in envelope else envelope
    detail = detail if isinstance(detail, Mapping) else {}
    plan = detail.get("rebalance_plan")
    plan = plan if isinstance(plan, Mapping) else {}
    correlation = plan.get("correlation_id", detail.get("correlation_id"))
    plan_id = plan.get("plan_id")
    return SalvagedIds(
        causation_id=_trace_or_unknown(envelope.get("id")),
        correlation_id=_trace_or_unknown(correlation),
        plan_id=plan_id if isinstance(plan_id, str) and is_safe_plan_id(plan_id) else UNKNOWN,
    )


def _trace_or_unknown(value: object) -> str:
    return value if isinstance(value, str) and is_trace_id(value) else UNKNOWN


def untraded_result(item: PlanItem, reason: str) -> OrderResult:
    """The result of an item that sent no order: SKIPPED, nothing filled, and why."""
    return OrderResult(
        symbol=item.symbol,
        action=item.action,
        planned_notional=item.planned_notional,
        filled_qty=Shares(ZERO),
        avg_fill_price=None,
        filled_notional=Dollars(ZERO),
        status=ItemStatus.SKIPPED,
        arrival_quote=None,
        slippage_bps=None,
        repegs=0,
        market_fallback=False,
        reason=reason,
        strategy_id=item.strategy_id,
        child_orders=(),
    )
