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
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plan_executor.domain.enums import Action, ExecutionStatus
from plan_executor.domain.execution_choice import venue_for
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
from plan_executor.engine.market_close import MarketClose
from plan_executor.engine.models import ExecutionDeps, ExecutionOutcome, ExecutionRequest
from plan_executor.engine.plan_steps import Engine, run_steps
from plan_executor.engine.progress import Phase, ProgressReporter
from plan_executor.engine.quoting import QuoteSource
from plan_executor.engine.reconcile import list_plan_orders, reconcile_plan_orders
from plan_executor.engine.result_builder import (
    OutcomeInputs,
    build_outcome,
    clipped_reason,
    nothing_to_trade,
)
from plan_executor.engine.sweep import final_sweep
from plan_executor.engine.tracker import OrderTracker

logger = logging.getLogger(__name__)

RECOVERY_NOTE = (
    "an earlier attempt of this plan ended without a result; its open orders were cancelled"
    " and confirmed, nothing new was sent, and its fills are reported"
)

__all__ = [
    "ExecutionDeps",
    "ExecutionInfrastructureError",
    "ExecutionOutcome",
    "ExecutionRequest",
    "recover_plan",
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
    journal = ExecutionJournal.for_plan(plan, started)
    cleared = await _guard_rails(deps, journal, budget_s)
    if isinstance(cleared, GuardRejection):
        progress.phase_ended(Phase.GUARDS, "rejected")
        if request.earlier_attempt:
            return await recover_plan(request, deps, why=cleared.describe(), budget_s=budget_s)
        return _rejected(request, deps, started, cleared.describe())
    progress.phase_ended(Phase.GUARDS, "passed")
    session = ExecutionSession(
        request,
        deps,
        journal,
        progress,
        cleanup=cleared.early.aclose,
        closes_at=cleared.guard.market.next_close,
    )

    async def steps(engine: Engine) -> None:
        await run_steps(engine, cleared.guard, cleared.early)

    return await session.run(steps, deadline=deadline)


async def recover_plan(
    request: ExecutionRequest, deps: ExecutionDeps, *, why: str, budget_s: float
) -> ExecutionOutcome:
    """Clean up after an earlier attempt that ended without a result (a crash, or a redelivery
    the rails refused): adopt this plan's orders at the broker, cancel and confirm the open
    ones, send nothing new, and report every fill. Unfinished items end `not_resumed`."""
    deadline = asyncio.get_running_loop().time() + budget_s
    plan = request.detail.rebalance_plan
    progress = ProgressReporter(deps.progress)
    journal = ExecutionJournal.for_plan(plan, deps.clock.now())
    session = ExecutionSession(request, deps, journal, progress, unfinished=f"not_resumed: {why}")
    outcome = await session.run(reconcile_only, deadline=deadline)
    reason = f"recovered: {RECOVERY_NOTE}; {why}"
    if outcome.result.reason:
        reason = f"{reason}; {outcome.result.reason}"
    result = outcome.result.model_copy(update={"reason": clipped_reason(reason)})
    return ExecutionOutcome(result, outcome.ledger_lines)


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


@dataclass(slots=True)
class ExecutionSession:
    """One execution's stream, tracker and engine around `work`, under the deadline; then the
    cleanup (cancel and confirm what is open) and the outcome, on every path."""

    request: ExecutionRequest
    deps: ExecutionDeps
    journal: ExecutionJournal
    progress: ProgressReporter
    cleanup: Callable[[], Awaitable[None]] | None = None
    unfinished: str | None = None
    """The reason items still unfinished when `work` returns end with (CANCELED); None: none."""
    closes_at: datetime | None = None
    """The broker's close as the guard rails read it: `work` stops there, as at the deadline
    (None: no close applies, as for a recovery, which sends nothing)."""

    async def run(
        self, work: Callable[[Engine], Coroutine[Any, Any, None]], *, deadline: float
    ) -> ExecutionOutcome:
        deps, journal, progress = self.deps, self.journal, self.progress
        async with AsyncExitStack() as stack:
            if self.cleanup is not None:
                stack.push_async_callback(self.cleanup)
            try:
                feed = await stack.enter_async_context(deps.broker.trade_events())
            except Exception as error:
                raise ExecutionInfrastructureError(
                    f"cannot open the trade stream: {error}"
                ) from error
            tracker = OrderTracker(
                deps.broker,
                feed,
                plan_hash=journal.plan_hash,
                poll_interval=deps.settings.poll_interval,
                on_change=progress.order_changed,
            )
            await stack.enter_async_context(tracker.running())
            engine = Engine(
                deps.broker,
                deps.clock,
                deps.settings,
                journal,
                tracker,
                progress,
                venue_for(deps.trading_mode, deps.settings.venue),
                closes_at=self.closes_at,
                deadline=deadline,
            )
            timed_out, failure = await _run_until_deadline(engine, work(engine), deadline)
            if self.unfinished is not None and failure is None:
                _end_unfinished(journal, ItemEnding.CANCELED, self.unfinished)
            progress.phase_started(Phase.CLEANUP)
            unconfirmed = await final_sweep(engine)
            progress.phase_ended(Phase.CLEANUP, f"{len(unconfirmed)} orders unconfirmed")
            if isinstance(failure, ExecutionInfrastructureError):
                raise failure
            inputs = OutcomeInputs(
                request=self.request,
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


async def reconcile_only(engine: Engine) -> None:
    """Adopt this plan's earlier orders, cancel and confirm the open ones; send nothing."""
    engine.journal.skip_holds()
    earlier = await list_plan_orders(
        engine.broker, engine.journal, engine.settings, open_only=False
    )
    await reconcile_plan_orders(engine.journal, engine.tracker, engine.desk, earlier)
    engine.reconciled = True


async def _run_until_deadline(
    engine: Engine, work: Coroutine[Any, Any, None], deadline: float
) -> tuple[bool, Exception | None]:
    """Run `work` until it ends, the deadline comes (timed out: True) or the market closes;
    the items still unfinished then end with the cause. Returns (timed out, the failure)."""
    remaining = max(deadline - asyncio.get_running_loop().time(), 0.0)
    try:
        async with asyncio.timeout(remaining):
            closed = await _until_close(work, engine.close)
    except TimeoutError:
        _end_unfinished(engine.journal, ItemEnding.CANCELED, "the deadline came")
        return True, None
    except Exception as error:
        if not isinstance(error, ExecutionInfrastructureError):
            logger.exception("execution stopped by an unexpected error")
        _end_unfinished(engine.journal, ItemEnding.ERRORED, f"execution stopped: {error}")
        return False, error
    if closed:
        logger.warning("the market closed at %s: the plan's work stopped", engine.close.at)
        _end_unfinished(engine.journal, ItemEnding.CANCELED, engine.close.reason)
    return False, None


async def _until_close(work: Coroutine[Any, Any, None], close: MarketClose) -> bool:
    """Run `work` to its end (False; what it raised is raised) or until the close comes first
    (True; `work` is cancelled). Both tasks are cancelled and awaited on every way out, the
    deadline's included."""
    working = asyncio.ensure_future(work)
    closing = asyncio.ensure_future(close.wait())
    try:
        await asyncio.wait({working, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (working, closing):
            task.cancel()
        await asyncio.gather(working, closing, return_exceptions=True)
    if not working.cancelled():
        working.result()
        return False
    return not closing.cancelled()


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
