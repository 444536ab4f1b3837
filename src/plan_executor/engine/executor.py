"""The use case: run one rebalance plan under a deadline and report what happened.

`run_plan` checks the guard rails (with the early reads, which send nothing, alongside the
broker's), opens ONE trade stream, and runs reconcile, open-order cleanup, sells, settlement
and buys under `asyncio.wait_for`. The journal and the tracker live
outside that coroutine, so when the deadline cancels it the cleanup (bounded by its own budget)
still cancels this plan's open orders, confirms them, re-reads fills, and the TIMED_OUT result
reports every fill. The stream and the tracker's tasks are closed (awaited) on every path.
"""

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime

from plan_executor.domain.enums import Action, ExecutionStatus
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.order_ids import short_plan_hash
from plan_executor.domain.outcome import ItemEnding
from plan_executor.domain.rejections import RejectionContext, SalvagedIds, rejected_result
from plan_executor.engine.early_reads import EarlyReads
from plan_executor.engine.errors import ExecutionInfrastructureError
from plan_executor.engine.guards import (
    GuardRejection,
    GuardsPassed,
    check_broker_rails,
    check_local_rails,
)
from plan_executor.engine.journal import ExecutionJournal
from plan_executor.engine.models import ExecutionDeps, ExecutionOutcome, ExecutionRequest
from plan_executor.engine.plan_steps import Engine, run_steps
from plan_executor.engine.progress import Phase, ProgressReporter
from plan_executor.engine.quoting import QuoteSource
from plan_executor.engine.result_builder import OutcomeInputs, build_outcome, nothing_to_trade
from plan_executor.engine.sweep import final_sweep
from plan_executor.engine.tracker import OrderTracker

logger = logging.getLogger(__name__)

__all__ = [
    "ExecutionDeps",
    "ExecutionInfrastructureError",
    "ExecutionOutcome",
    "ExecutionRequest",
    "run_plan",
]


async def run_plan(
    request: ExecutionRequest, deps: ExecutionDeps, *, budget_s: float
) -> ExecutionOutcome:
    """Execute the plan within `budget_s` seconds (plus `settings.cleanup_budget` after a
    timeout). Business outcomes, rejections and timeouts are results; raises
    `ExecutionInfrastructureError` only when no truthful result can be given."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    started = deps.clock.now()
    plan = request.detail.rebalance_plan
    if not request.detail.trades_required:
        return nothing_to_trade(request, deps, started, reason="trades_required is false")
    if not any(item.action is not Action.HOLD for item in plan.items):
        return nothing_to_trade(request, deps, started, reason=None)
    progress = ProgressReporter(deps.progress)
    progress.phase_started(Phase.GUARDS)
    journal = ExecutionJournal(plan, short_plan_hash(plan_fingerprint(plan)), started)
    cleared = await _guard_rails(deps, journal, budget_s)
    if isinstance(cleared, GuardRejection):
        progress.phase_ended(Phase.GUARDS, "rejected")
        return _rejected(request, deps, started, cleared.describe())
    progress.phase_ended(Phase.GUARDS, "passed")
    return await _execute(
        request, deps, journal=journal, cleared=cleared, progress=progress, deadline=deadline
    )


@dataclass(frozen=True, slots=True)
class _Cleared:
    """Every rail passed: what they read, and the reads made alongside them."""

    guard: GuardsPassed
    early: EarlyReads


async def _guard_rails(
    deps: ExecutionDeps, journal: ExecutionJournal, budget_s: float
) -> _Cleared | GuardRejection:
    """The rails; once the local ones passed, the early reads run alongside the broker's.
    They are handed on only when every rail passed, else stopped and dropped."""
    plan = journal.plan
    local = await check_local_rails(
        plan, clock=deps.clock, settings=deps.settings, trading_mode=deps.trading_mode
    )
    if local is not None:
        return local
    quotes = QuoteSource.from_settings(deps.broker, deps.clock, deps.settings)
    early = EarlyReads(deps.broker, journal, quotes, deps.settings, now=deps.clock.now())
    checking = check_broker_rails(
        plan,
        broker=deps.broker,
        clock=deps.clock,
        settings=deps.settings,
        trading_mode=deps.trading_mode,
    )
    try:
        guard = await asyncio.wait_for(checking, budget_s)
    except TimeoutError:
        guard = GuardRejection("deadline", "the deadline came while checking the guard rails")
    except BaseException:
        await early.aclose()
        raise
    if isinstance(guard, GuardRejection):
        await early.aclose()
        return guard
    return _Cleared(guard, early)


async def _execute(
    request: ExecutionRequest,
    deps: ExecutionDeps,
    *,
    journal: ExecutionJournal,
    cleared: _Cleared,
    progress: ProgressReporter,
    deadline: float,
) -> ExecutionOutcome:
    async with AsyncExitStack() as stack:
        stack.push_async_callback(cleared.early.aclose)
        try:
            feed = await stack.enter_async_context(deps.broker.trade_events())
        except Exception as error:
            raise ExecutionInfrastructureError(f"cannot open the trade stream: {error}") from error
        tracker = OrderTracker(
            deps.broker,
            feed,
            plan_hash=journal.plan_hash,
            poll_interval=deps.settings.poll_interval,
            on_change=progress.order_changed,
        )
        await stack.enter_async_context(tracker.running())
        engine = Engine(deps.broker, deps.clock, deps.settings, journal, tracker, progress)
        timed_out, failure = await _run_until_deadline(engine, cleared, deadline)
        progress.phase_started(Phase.CLEANUP)
        unconfirmed = await final_sweep(engine)
        progress.phase_ended(Phase.CLEANUP, f"{len(unconfirmed)} orders unconfirmed")
        if isinstance(failure, ExecutionInfrastructureError):
            raise failure
        inputs = OutcomeInputs(
            request=request,
            deps_mode=deps.trading_mode,
            settings=deps.settings,
            journal=journal,
            tracker=tracker,
            terms=engine.terms,
            completed_at=deps.clock.now(),
        )
        outcome = build_outcome(
            inputs, timed_out=timed_out, failure=failure, unconfirmed=unconfirmed
        )
    return outcome


async def _run_until_deadline(
    engine: Engine, cleared: _Cleared, deadline: float
) -> tuple[bool, Exception | None]:
    remaining = max(deadline - asyncio.get_running_loop().time(), 0.0)
    try:
        await asyncio.wait_for(run_steps(engine, cleared.guard, cleared.early), remaining)
    except TimeoutError:
        _end_unfinished(engine.journal, ItemEnding.CANCELED, "the deadline came")
        return True, None
    except Exception as error:
        if not isinstance(error, ExecutionInfrastructureError):
            logger.exception("execution stopped by an unexpected error")
        _end_unfinished(engine.journal, ItemEnding.ERRORED, f"execution stopped: {error}")
        return False, error
    return False, None


def _end_unfinished(journal: ExecutionJournal, ending: ItemEnding, reason: str) -> None:
    for run in journal.items:
        run.end(ending, reason)


def _rejected(
    request: ExecutionRequest, deps: ExecutionDeps, started: datetime, reason: str
) -> ExecutionOutcome:
    plan = request.detail.rebalance_plan
    context = RejectionContext(
        event_id=request.result_event_id,
        started_at=started,
        completed_at=max(deps.clock.now(), started),
        trading_mode=deps.trading_mode,
        attempt=request.attempt,
    )
    ids = SalvagedIds(request.causation_id, plan.correlation_id, plan.plan_id)
    result = rejected_result(
        context,
        reason=reason,
        ids=ids,
        plan=plan,
        allocation_comparison=request.detail.allocation_comparison,
    )
    assert result.status is ExecutionStatus.REJECTED
    return ExecutionOutcome(result=result, ledger_lines=())
