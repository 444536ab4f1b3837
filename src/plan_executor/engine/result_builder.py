"""The `ExecutionOutcome` of an attempt: the result event's detail and the ledger lines."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from plan_executor.domain.enums import ExecutionStatus, TradingMode
from plan_executor.domain.execution_choice import plan_note, venue_for
from plan_executor.domain.money import Bps
from plan_executor.domain.outcome import classify_plan
from plan_executor.domain.rejections import untraded_result
from plan_executor.domain.results import (
    MAX_REASON_CHARS,
    ExecutionResult,
    OrderResult,
    duration_ms,
    summarize_orders,
)
from plan_executor.domain.sizing import AssetTerms
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.journal import ExecutionJournal
from plan_executor.engine.models import ExecutionDeps, ExecutionOutcome, ExecutionRequest
from plan_executor.engine.reporting import (
    HOLD_REASON,
    LedgerContext,
    item_report,
    ledger_lines,
    plan_reason,
    plan_shortfall,
    trading_statuses,
)
from plan_executor.engine.tracker import OrderTracker


@dataclass(frozen=True, slots=True)
class OutcomeInputs:
    request: ExecutionRequest
    deps_mode: TradingMode
    settings: ExecutionSettings
    journal: ExecutionJournal
    tracker: OrderTracker
    terms: Mapping[str, AssetTerms]
    completed_at: datetime


def build_outcome(
    inputs: OutcomeInputs,
    *,
    timed_out: bool,
    failure: Exception | None,
    unconfirmed: Sequence[str],
) -> ExecutionOutcome:
    journal, tracker, settings = inputs.journal, inputs.tracker, inputs.settings
    reports = [
        item_report(run, tracker, inputs.terms.get(run.symbol), settings.min_notional)
        for run in journal.items
    ]
    status = classify_plan(trading_statuses(reports), timed_out=timed_out)
    venue = venue_for(inputs.deps_mode, settings.venue)
    note = plan_note(venue, (run.execution for run in journal.items))
    reason = _reason(status, plan_reason(status, reports), failure, unconfirmed, note)
    orders = tuple(report.result for report in reports)
    completed_at = max(inputs.completed_at, journal.started_at)
    frame = _Frame(inputs.request, inputs.deps_mode, journal.started_at, completed_at)
    result = frame.result(
        status=status,
        reason=reason,
        orders=orders,
        shortfall=plan_shortfall(reports),
    )
    plan = journal.plan
    context = LedgerContext(plan.plan_id, inputs.request.attempt, plan.correlation_id, completed_at)
    return ExecutionOutcome(result, tuple(ledger_lines(journal, tracker, context)))


def nothing_to_trade(
    request: ExecutionRequest, deps: ExecutionDeps, started: datetime, *, reason: str | None
) -> ExecutionOutcome:
    """SUCCESS with zero orders: trades_required is false, or every item is a HOLD."""
    items = request.detail.rebalance_plan.items
    orders = tuple(untraded_result(item, reason or HOLD_REASON) for item in items)
    completed_at = max(deps.clock.now(), started)
    frame = _Frame(request, deps.trading_mode, started, completed_at)
    result = frame.result(
        status=ExecutionStatus.SUCCESS, reason=reason, orders=orders, shortfall=None
    )
    return ExecutionOutcome(result, ())


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every result of an attempt shares."""

    request: ExecutionRequest
    mode: TradingMode
    started: datetime
    completed: datetime

    def result(
        self,
        *,
        status: ExecutionStatus,
        reason: str | None,
        orders: tuple[OrderResult, ...],
        shortfall: Bps | None,
    ) -> ExecutionResult:
        plan = self.request.detail.rebalance_plan
        return ExecutionResult(
            event_id=self.request.result_event_id,
            correlation_id=plan.correlation_id,
            causation_id=self.request.causation_id,
            plan_id=plan.plan_id,
            status=status,
            reason=clipped_reason(reason),
            trading_mode=self.mode,
            started_at=self.started,
            completed_at=self.completed,
            duration_ms=duration_ms(self.started, self.completed),
            attempt=self.request.attempt,
            orders=orders,
            summary=summarize_orders(orders, implementation_shortfall_bps=shortfall),
            ledger=None,
            allocation_comparison=self.request.detail.allocation_comparison,
        )


def _reason(
    status: ExecutionStatus,
    items: str | None,
    failure: Exception | None,
    unconfirmed: Sequence[str],
    note: str | None,
) -> str | None:
    """What went wrong first, then the venue's note (before the item list, which may be long
    enough to be clipped), then the items that did not fill."""
    parts: list[str] = []
    if status is ExecutionStatus.TIMED_OUT:
        parts.append("the deadline came; this plan's open orders were cancelled")
    if failure is not None:
        parts.append(f"execution stopped by an error: {type(failure).__name__}: {failure}")
    if unconfirmed:
        parts.append(f"NOT confirmed terminal: {', '.join(unconfirmed)}")
    if note:
        parts.append(note)
    if items:
        parts.append(items)
    return "; ".join(parts) or None


def clipped_reason(reason: str | None) -> str | None:
    if reason is None or len(reason) <= MAX_REASON_CHARS:
        return reason
    return reason[: MAX_REASON_CHARS - 3] + "..."
