"""Steps 2-7 in order, over one execution's shared parts (the part the deadline may cancel)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from plan_executor.domain.enums import Action
from plan_executor.domain.outcome import ItemEnding
from plan_executor.domain.sizing import AssetTerms
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.early_reads import EarlyReads
from plan_executor.engine.guards import GuardsPassed
from plan_executor.engine.journal import ExecutionJournal, OrderIdAllocator
from plan_executor.engine.order_desk import OrderDesk
from plan_executor.engine.phases import PhaseContext, run_buys, run_sells, settle_sells
from plan_executor.engine.progress import Phase, ProgressReporter
from plan_executor.engine.quoting import QuoteSource
from plan_executor.engine.reconcile import (
    cancel_conflicting_orders,
    list_open_orders,
    list_plan_orders,
    reconcile_plan_orders,
)
from plan_executor.engine.smart_order import SmartOrderTools
from plan_executor.engine.tracker import OrderTracker
from plan_executor.ports import Broker, BrokerOrder, Clock

T = TypeVar("T")


@dataclass(slots=True)
class Engine:
    """The parts of one execution that outlive the deadline's cancellation."""

    broker: Broker
    clock: Clock
    settings: ExecutionSettings
    journal: ExecutionJournal
    tracker: OrderTracker
    progress: ProgressReporter
    terms: dict[str, AssetTerms] = field(default_factory=dict)
    reconciled: bool = False
    """True once this plan's earlier orders were listed and adopted: from then on the tracker
    knows every order of this plan (its own submissions are registered before they are sent)."""
    desk: OrderDesk = field(init=False)

    def __post_init__(self) -> None:
        self.desk = OrderDesk(
            self.broker,
            self.tracker,
            self.journal,
            self.clock,
            cancel_confirm_timeout=self.settings.cancel_confirm_timeout,
            price_reread_attempts=self.settings.price_reread_attempts,
            price_reread_wait=self.settings.price_reread_wait,
        )


async def run_steps(engine: Engine, guard: GuardsPassed, early: EarlyReads | None = None) -> None:
    """`early`: what was read while the rails were checked (used where it may be)."""
    journal, settings = engine.journal, engine.settings
    for run in journal.runs_for(Action.HOLD):
        run.end(ItemEnding.SKIPPED)
    engine.terms.update(
        {
            symbol: AssetTerms(fractionable=asset.fractionable, tradable=asset.tradable)
            for symbol, asset in guard.assets.items()
        }
    )
    ids, blocked = await _reconcile_and_clear(engine, early)
    quotes = QuoteSource.from_settings(engine.broker, engine.clock, settings)
    tools = SmartOrderTools(
        engine.desk,
        engine.tracker,
        quotes,
        ids,
        settings.max_order_notional,
        peg_check_interval=settings.peg_check_interval,
        max_repegs_per_step=settings.max_repegs_per_step,
    )
    context = PhaseContext(
        broker=engine.broker,
        settings=settings,
        journal=journal,
        tools=tools,
        quotes=quotes,
        terms=engine.terms,
        urgency=journal.plan.execution_urgency,
        blocked_symbols=frozenset(blocked),
    )
    await _phase(engine, Phase.SELLS, lambda: run_sells(context, early))
    if any(run.child_ids for run in journal.runs_for(Action.SELL)):
        await _phase(engine, Phase.SETTLEMENT, lambda: settle_sells(context))
    await _phase(engine, Phase.BUYS, lambda: run_buys(context))


Listing = list[BrokerOrder] | asyncio.Task[list[BrokerOrder]]
"""Open orders on the plan's symbols: as read early, or a listing still under way."""


async def _reconcile_and_clear(
    engine: Engine, early: EarlyReads | None
) -> tuple[OrderIdAllocator, set[str]]:
    """Steps 2-4, from the early listings when they may be used; else both listings are made
    now that the stream is up, the open-order listing while the plan's own orders are
    reconciled (one round trip instead of two). Nothing is cancelled or sent from the
    open-order listing before the reconcile is done."""
    journal, tracker, desk = engine.journal, engine.tracker, engine.desk
    listing: asyncio.Task[list[BrokerOrder]] | None = None

    async def reconcile() -> tuple[OrderIdAllocator, Listing]:
        nonlocal listing
        listed = await early.listings() if early is not None else None
        found: Listing
        if listed is not None:
            earlier, found = listed.plan_orders, listed.open_orders
        else:
            listing = asyncio.create_task(_list_open_orders(engine))
            earlier = await list_plan_orders(
                engine.broker, journal, engine.settings, open_only=False
            )
            found = listing
        return await reconcile_plan_orders(journal, tracker, desk, earlier), found

    async def cancel_conflicting(found: Listing) -> set[str]:
        orders = found if isinstance(found, list) else await found
        return await cancel_conflicting_orders(journal, tracker, desk, orders)

    try:
        ids, found = await _phase(engine, Phase.RECONCILE, reconcile)
        engine.reconciled = True
        blocked = await _phase(engine, Phase.OPEN_ORDERS, lambda: cancel_conflicting(found))
    finally:
        if listing is not None:
            await _discard(listing)
    return ids, blocked


async def _list_open_orders(engine: Engine) -> list[BrokerOrder]:
    since = engine.clock.now() - engine.settings.open_order_lookback
    return await list_open_orders(engine.broker, engine.journal, since=since)


async def _discard(task: "asyncio.Task[T]") -> None:
    """Stop `task` if it is still running; its result or error is no longer wanted."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # retrieved: an error here was already answered by another step


async def _phase(engine: Engine, phase: Phase, step: Callable[[], Awaitable[T]]) -> T:
    engine.progress.phase_started(phase)
    result = await step()
    engine.progress.phase_ended(phase)
    return result
