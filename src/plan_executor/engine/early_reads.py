"""Reads made while the broker's guard rails are checked. They send nothing (no submit, no
cancel), and they count only once every rail passed; if one refuses they are stopped and
their answers dropped.

Once the local rails passed, this plan's orders and the open orders on its symbols are listed
while the rails read the clock, the account and the assets. When neither listing shows an
open order, the sell side's positions and quotes are read next. The execution then takes
these answers instead of reading again, their errors included (a listing that failed fails
the execution as it would have at its usual place).

A listing that shows an open order is not used, and nothing is read after it: the order may
fill or be cancelled before the trade stream is up (it opens only after the rails), and the
cancels the reconcile makes change what is held. Every read is then made again at its usual
place, after the stream is up and the cancels are confirmed. An early quote is still judged
by the staleness rule where it is priced from (`QuoteSource.usable`).
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from plan_executor.domain.enums import Action
from plan_executor.domain.order_updates import TERMINAL_STATUSES
from plan_executor.domain.quotes import Quote
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.journal import ExecutionJournal
from plan_executor.engine.quoting import QuoteSource
from plan_executor.engine.reconcile import list_open_orders, list_plan_orders
from plan_executor.ports import Broker, BrokerError, BrokerOrder, Position

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EarlyListings:
    """Both listings, neither showing an open order."""

    plan_orders: list[BrokerOrder]
    open_orders: list[BrokerOrder]


@dataclass(frozen=True, slots=True)
class SellReads:
    """What the sell phase reads first: every sell's quote (a failed batch read gives none)
    and the positions, or the broker's error reading them."""

    quotes: Mapping[str, Quote]
    positions: Mapping[str, Position] | BrokerError


@dataclass(frozen=True, slots=True)
class Listed:
    """Both listings, each the orders or what listing them raised."""

    plan_orders: list[BrokerOrder] | BaseException
    open_orders: list[BrokerOrder] | BaseException

    @property
    def nothing_open(self) -> bool:
        listings = (self.plan_orders, self.open_orders)
        return all(
            isinstance(orders, list) and all(order.status in TERMINAL_STATUSES for order in orders)
            for orders in listings
        )


class EarlyReads:
    """Starts the reads at once (call it from a running loop); `aclose()` on every path."""

    def __init__(
        self,
        broker: Broker,
        journal: ExecutionJournal,
        quotes: QuoteSource,
        settings: ExecutionSettings,
        *,
        now: datetime,
    ) -> None:
        self._broker = broker
        self._quotes = quotes
        self._sell_symbols = sorted({run.symbol for run in journal.runs_for(Action.SELL)})
        self._sells: asyncio.Task[SellReads] | None = None
        self._closed = False
        listing = self._list_then_read(journal, settings, now)
        self._listed = asyncio.create_task(listing, name="early-listings")

    async def listings(self) -> EarlyListings | None:
        """The listings, or None when one showed an open order (list again once the stream is
        up). Raises what a listing raised."""
        listed = await asyncio.shield(self._listed)
        plan_orders, open_orders = answered(listed.plan_orders), answered(listed.open_orders)
        return EarlyListings(plan_orders, open_orders) if listed.nothing_open else None

    async def sell_reads(self) -> SellReads | None:
        """The sell phase's first reads, or None when they were not made (read them now).
        Raises what they raised beyond a broker error."""
        await asyncio.wait({self._listed})  # the sell reads start before the listings end
        if self._sells is None:
            return None
        return await asyncio.shield(self._sells)

    async def aclose(self) -> None:
        """Stop what still runs; answers nobody took are dropped. Idempotent."""
        self._closed = True  # no sell reads start from here on
        tasks = [task for task in (self._listed, self._sells) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()  # retrieved: a read nobody used has nothing to report

    async def _list_then_read(
        self, journal: ExecutionJournal, settings: ExecutionSettings, now: datetime
    ) -> Listed:
        listed = await list_both(self._broker, journal, settings, now=now)
        if listed.nothing_open and self._sell_symbols and not self._closed:
            reads = _read_sells(self._broker, self._quotes, self._sell_symbols)
            self._sells = asyncio.create_task(reads, name="early-sell-reads")
        return listed


async def list_both(
    broker: Broker, journal: ExecutionJournal, settings: ExecutionSettings, *, now: datetime
) -> Listed:
    """This plan's orders, and the open orders on its symbols within the lookback from `now`,
    listed at once; an error is kept, not raised, so the other listing still completes."""
    plan_orders, open_orders = await asyncio.gather(
        list_plan_orders(broker, journal, settings, open_only=False),
        list_open_orders(broker, journal, since=now - settings.open_order_lookback),
        return_exceptions=True,
    )
    return Listed(plan_orders, open_orders)


async def _read_sells(broker: Broker, quotes: QuoteSource, symbols: list[str]) -> SellReads:
    arrivals, positions = await asyncio.gather(
        quotes.batch(symbols), read_or_error(broker.positions)
    )
    return SellReads(quotes=arrivals, positions=positions)


async def read_or_error(read: Callable[[], Awaitable[T]]) -> T | BrokerError:
    """A broker read's answer, or its `BrokerError` (so a concurrent read still completes).
    Called here, so a read cancelled before it started leaves no coroutine behind."""
    try:
        return await read()
    except BrokerError as error:
        return error


def answered(orders: list[BrokerOrder] | BaseException) -> list[BrokerOrder]:
    """The orders a listing found, or what it raised, raised here."""
    if isinstance(orders, BaseException):
        raise orders
    return orders
