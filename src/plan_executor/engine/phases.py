"""Steps 5-7: every sell at once, settlement on the stream, then buys from real buying power."""

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass

from plan_executor.domain.allocation import BuyAllocation, BuyRequest, allocate_buys
from plan_executor.domain.enums import Action, Side, Urgency
from plan_executor.domain.ledger import CancelReason
from plan_executor.domain.money import ZERO, Dollars, Shares
from plan_executor.domain.outcome import ItemEnding
from plan_executor.domain.pricing import PricingProfile
from plan_executor.domain.quotes import Quote
from plan_executor.domain.sizing import AssetTerms, remaining_notional
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.early_reads import EarlyReads, read_or_error
from plan_executor.engine.item_work import BuyWork, SellWork, filled_notional
from plan_executor.engine.journal import ExecutionJournal, ItemRun
from plan_executor.engine.quoting import QuoteSource
from plan_executor.engine.smart_order import SmartOrder, SmartOrderTools
from plan_executor.engine.tracker import is_terminal
from plan_executor.ports import AccountSnapshot, Broker, BrokerError, Position

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PhaseContext:
    broker: Broker
    settings: ExecutionSettings
    journal: ExecutionJournal
    tools: SmartOrderTools
    quotes: QuoteSource
    terms: Mapping[str, AssetTerms]
    urgency: Urgency
    blocked_symbols: frozenset[str]
    """Symbols where a conflicting open order could not be cancelled: not traded."""


async def run_sells(ctx: PhaseContext, early: EarlyReads | None = None) -> None:
    """Step 5: all sells concurrently (the shared limiter bounds the broker calls), from the
    quotes and positions read early when they were."""
    runs = _workable(ctx, ctx.journal.runs_for(Action.SELL))
    if not runs or _ended_by_close(ctx, runs):
        return
    reads = await early.sell_reads() if early is not None else None
    if reads is None:
        arrivals, positions = await asyncio.gather(
            ctx.quotes.batch([run.symbol for run in runs]), read_or_error(ctx.broker.positions)
        )
    else:
        arrivals, positions = reads.quotes, reads.positions
    if isinstance(positions, BrokerError):
        for run in runs:
            run.end(ItemEnding.ERRORED, f"positions unavailable: {positions}")
        return
    await _all(run_sell(ctx, run, positions, arrivals.get(run.symbol)) for run in runs)


async def run_sell(
    ctx: PhaseContext, run: ItemRun, positions: Mapping[str, Position], arrival: Quote | None
) -> None:
    earlier = _earlier_notional(ctx, run)
    if earlier is None:
        return
    position = positions.get(run.symbol)
    work = SellWork(
        held=position.qty_available if position else Shares(ZERO),
        notional=remaining_notional(run.item.planned_notional, earlier),
        full_exit=run.item.is_full_exit,
        terms=ctx.terms[run.symbol],
        min_notional=ctx.settings.min_notional,
    )
    await _guarded(run, SmartOrder(run, Side.SELL, work, _profile(ctx), ctx.tools).execute(arrival))


async def settle_sells(ctx: PhaseContext) -> None:
    """Step 6: every sell order terminal, as the trade stream reports it (the tracker polls
    only while the stream is down). An order still open at the timeout is cancelled until the
    broker confirms it."""
    ids = [cid for run in ctx.journal.runs_for(Action.SELL) for cid in run.child_ids]
    tracker = ctx.tools.tracker
    orders = await tracker.wait_all(ids, is_terminal, ctx.settings.settle_timeout)
    still_open = [order.client_order_id for order in orders if order.is_open]
    if still_open:
        logger.warning("sells still open after settlement wait: %s", still_open)
        desk = ctx.tools.desk
        await asyncio.gather(
            *(desk.cancel_until_confirmed(cid, CancelReason.WAIT_EXPIRED) for cid in still_open)
        )


async def run_buys(ctx: PhaseContext) -> None:
    """Step 7: buying power re-read after the sells, shared by priority then pro rata."""
    runs = _workable(ctx, ctx.journal.runs_for(Action.BUY))
    wanted = {run.symbol: _earlier_notional(ctx, run) for run in runs}
    runs = [run for run in runs if wanted[run.symbol] is not None]
    if not runs or _ended_by_close(ctx, runs):
        return
    # The quotes of every candidate are read with the buying power: one round trip, not two.
    account, arrivals = await asyncio.gather(
        read_or_error(ctx.broker.account), ctx.quotes.batch([run.symbol for run in runs])
    )
    if _ended_by_close(ctx, runs):
        return
    if isinstance(account, BrokerError):
        for run in runs:
            run.end(ItemEnding.ERRORED, f"buying power unavailable: {account}")
        return
    available = _spendable_cash(account, allow_margin=ctx.settings.allow_margin)
    requests = [
        BuyRequest(run.symbol, run.item.priority, _left_to_buy(run, wanted[run.symbol]))
        for run in runs
    ]
    allocations = allocate_buys(
        requests,
        available,
        reserve_fraction=ctx.settings.buy_reserve_fraction,
        min_notional=ctx.settings.min_notional,
    )
    funded = [
        (run, grant)
        for run, grant in zip(runs, allocations, strict=True)
        if _funded(run, grant, available)
    ]
    await _all(run_buy(ctx, run, grant.granted, arrivals.get(run.symbol)) for run, grant in funded)


async def run_buy(ctx: PhaseContext, run: ItemRun, budget: Dollars, arrival: Quote | None) -> None:
    work = BuyWork(
        budget=budget, terms=ctx.terms[run.symbol], min_notional=ctx.settings.min_notional
    )
    await _guarded(run, SmartOrder(run, Side.BUY, work, _profile(ctx), ctx.tools).execute(arrival))


def _workable(ctx: PhaseContext, runs: list[ItemRun]) -> list[ItemRun]:
    for run in runs:
        if run.symbol in ctx.blocked_symbols:
            run.end(ItemEnding.ERRORED, "an open order on this symbol could not be cancelled")
    return [run for run in runs if run.ending is None]


def _ended_by_close(ctx: PhaseContext, runs: list[ItemRun]) -> bool:
    """Once the market has closed, the phase's items end with that reason and nothing starts."""
    close = ctx.tools.close
    if not close.passed():
        return False
    for run in runs:
        run.end(ItemEnding.CANCELED, close.reason)
    return True


def _earlier_notional(ctx: PhaseContext, run: ItemRun) -> Dollars | None:
    """What an earlier attempt already filled; None (and the item ends) when a fill has no
    price, because the remainder cannot then be known."""
    earlier = [ctx.tools.tracker.get(cid) for cid in run.earlier_ids]
    notional = filled_notional(earlier)
    if notional is None:
        run.end(ItemEnding.ERRORED, "an earlier attempt's fill has no price; nothing sent")
    return notional


def _left_to_buy(run: ItemRun, earlier: Dollars | None) -> Dollars:
    return remaining_notional(run.item.planned_notional, earlier or Dollars(ZERO))


def _spendable_cash(account: AccountSnapshot, *, allow_margin: bool) -> Dollars:
    """Buying power, capped at cash unless margin is allowed: a rebalance must not borrow."""
    if allow_margin:
        return account.buying_power
    return Dollars(min(account.buying_power, account.cash))


def _funded(run: ItemRun, grant: BuyAllocation, available: Dollars) -> bool:
    if grant.granted > 0:
        if grant.granted < grant.requested:
            run.note(f"reduced to {grant.granted} of {grant.requested} ({grant.reason})")
        return True
    if run.earlier_ids and grant.requested == 0:
        run.end(ItemEnding.WORKED, "completed by an earlier attempt")
    else:
        run.end(
            ItemEnding.SKIPPED,
            f"{grant.reason}: asked {grant.requested}, buying power {available}",
        )
    return False


def _profile(ctx: PhaseContext) -> PricingProfile:
    return ctx.settings.profile(ctx.urgency)


async def _all(item_runs: Iterable[Awaitable[None]]) -> None:
    await asyncio.gather(*item_runs)


async def _guarded(run: ItemRun, work: Awaitable[None]) -> None:
    """One item's failure ends that item, never the plan."""
    try:
        await work
    except BrokerError as error:
        run.end(ItemEnding.ERRORED, f"broker unavailable: {error}")
    except Exception as error:
        logger.exception("item %s failed", run.symbol)
        run.end(ItemEnding.ERRORED, f"internal error: {type(error).__name__}: {error}")
