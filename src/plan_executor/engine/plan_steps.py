"""Steps 2-7 in order, over one execution's shared parts (the part the deadline may cancel)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from plan_executor.domain.enums import Action, Venue
from plan_executor.domain.sizing import AssetTerms
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.early_reads import EarlyReads, answered, list_both
from plan_executor.engine.execution_policy import ExecutionPolicy
from plan_executor.engine.guards import GuardsPassed
from plan_executor.engine.journal import ExecutionJournal, OrderIdAllocator
from plan_executor.engine.market_close import MarketClose
from plan_executor.engine.order_desk import CancelRetry, OrderDesk
from plan_executor.engine.phases import PhaseContext, run_buys, run_sells, settle_sells
from plan_executor.engine.progress import Phase, ProgressReporter
from plan_executor.engine.quoting import QuoteSource
from plan_executor.engine.reconcile import cancel_conflicting_orders, reconcile_plan_orders
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
    venue: Venue
    """What the orders meet (`execution_choice.venue_for`)."""
    terms: dict[str, AssetTerms] = field(default_factory=dict)
    reconciled: bool = False
    """True once this plan's earlier orders were listed and adopted: from then on the tracker
    knows every order of this plan (its own submissions are registered before they are sent)."""
    closes_at: datetime | None = None
    """The broker's close as the guard rails read it; None: no close applies (nothing new is
    sent, as in a recovery)."""
    deadline: float | None = None
    """The event loop's time at which the plan's work is stopped; None: none known."""
    close: MarketClose = field(init=False)
    desk: OrderDesk = field(init=False)

    def __post_init__(self) -> None:
        self.close = MarketClose(
            self.clock, self.closes_at, self.settings.market_close_check_interval
        )
        self.desk = OrderDesk(
            self.broker,
            self.tracker,
            self.journal,
            self.clock,
            self.close,
            cancel_confirm_timeout=self.settings.cancel_confirm_timeout,
            cancel_retry=CancelRetry(
                self.settings.cancel_retry_wait, self.settings.cancel_retry_max_wait
            ),
            price_reread_attempts=self.settings.price_reread_attempts,
            price_reread_wait=self.settings.price_reread_wait,
        )

    def time_left(self) -> timedelta | None:
        """Until the deadline or the close, whichever comes first; None: neither applies."""
        left: list[timedelta] = []
        if self.deadline is not None:
            left.append(timedelta(seconds=self.deadline - asyncio.get_running_loop().time()))
        if self.closes_at is not None:
            left.append(self.closes_at - self.clock.now())
        return min(left, default=None)


async def run_steps(engine: Engine, guard: GuardsPassed, early: EarlyReads | None = None) -> None:
    """`early`: what was read while the rails were checked (used where it may be)."""
    journal, settings = engine.journal, engine.settings
    journal.skip_holds()
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
        engine.close,
        ExecutionPolicy(
            engine.venue,
            journal.plan.execution_urgency,
            settings.walk_min_spread_ticks,
            engine.time_left,
        ),
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


async def _reconcile_and_clear(
    engine: Engine, early: EarlyReads | None
) -> tuple[OrderIdAllocator, set[str]]:
    """Steps 2-4, from the early listings when they may be used; else both listings are made
    again, at once, now that the stream is up. Nothing is cancelled or sent from the
    open-order listing before the reconcile is done (an error listing them surfaces then)."""
    journal, tracker, desk = engine.journal, engine.tracker, engine.desk

    async def reconcile() -> tuple[OrderIdAllocator, list[BrokerOrder] | BaseException]:
        early_listed = await early.listings() if early is not None else None
        found: list[BrokerOrder] | BaseException
        if early_listed is not None:
            earlier, found = early_listed.plan_orders, early_listed.open_orders
        else:
            now = engine.clock.now()
            listed = await list_both(engine.broker, journal, engine.settings, now=now)
            earlier, found = answered(listed.plan_orders), listed.open_orders
        return await reconcile_plan_orders(journal, tracker, desk, earlier), found

    ids, found = await _phase(engine, Phase.RECONCILE, reconcile)
    engine.reconciled = True
    blocked = await _phase(
        engine,
        Phase.OPEN_ORDERS,
        lambda: cancel_conflicting_orders(journal, tracker, desk, answered(found)),
    )
    return ids, blocked


async def _phase(engine: Engine, phase: Phase, step: Callable[[], Awaitable[T]]) -> T:
    engine.progress.phase_started(phase)
    result = await step()
    engine.progress.phase_ended(phase)
    return result
