"""Step 8: work one plan item with limit orders that walk the book, then maybe a market order;
or, where walking cannot pay, with one market order (`domain/execution_choice.py`).

Each step: size the remainder at the step's price, submit a limit, let it rest for the step's
wait, then re-quote. When the next step asks for the same price the order rests on through it
(never cancelled and resent at the same price, incident 8; it keeps its place in the queue).
Otherwise cancel and confirm a terminal state (a fill may win), re-read what filled and go on
at the next price that differs from the last. An order the broker cancels or expires by itself
simply ends its step (incident 9). After the last step the remainder goes to a market order,
unless the price has run past the slippage cap since arrival.
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import ChildOrderStatus, Execution, OrderType, Side
from plan_executor.domain.ledger import CancelReason
from plan_executor.domain.money import ZERO, Dollars, Price, Shares, notional_of
from plan_executor.domain.outcome import ItemEnding
from plan_executor.domain.pricing import (
    PricingProfile,
    holds_working_price,
    market_fallback_allowed,
    next_peg,
    price_ran_from,
)
from plan_executor.domain.quotes import Quote
from plan_executor.domain.sizing import Skip, SkipReason
from plan_executor.engine.execution_policy import ExecutionPolicy
from plan_executor.engine.item_work import ItemWork
from plan_executor.engine.journal import ItemRun, OrderIdAllocator
from plan_executor.engine.market_close import MarketClose, MarketClosed
from plan_executor.engine.order_desk import OrderDesk
from plan_executor.engine.quoting import NoUsableQuote, QuoteSource
from plan_executor.engine.tracker import OrderTracker, is_terminal
from plan_executor.ports import BrokerError, OrderRejected, OrderRequest

_NOTHING_TRADABLE_LEFT = frozenset(
    {SkipReason.NOTHING_TO_TRADE, SkipReason.BELOW_MIN_NOTIONAL, SkipReason.ROUNDS_TO_ZERO}
)
"""After an earlier attempt's fills, a remainder below the minimum or under one share is the
dust its fill prices left (it sized in shares at its own arrival quote): the item is done."""


class _Next(Enum):
    CONTINUE = "continue"
    DONE = "done"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class _Rested:
    """How a resting limit ended: what next, the last step it rested through, and the quote
    read at the end of that step when the order was still working then."""

    outcome: _Next
    step: int
    quote: Quote | NoUsableQuote | None = None
    limit: Price | None = None
    """The last limit price worked (a re-peg within the step may have moved it)."""


@dataclass(frozen=True, slots=True)
class _Working:
    """The order still working at the end of a step, at its limit."""

    cid: str
    limit: Price


def _seconds(interval: timedelta | None) -> float:
    return interval.total_seconds() if interval is not None else 0.0


@dataclass(frozen=True, slots=True)
class SmartOrderTools:
    """What every smart order of an execution shares."""

    desk: OrderDesk
    tracker: OrderTracker
    quotes: QuoteSource
    ids: OrderIdAllocator
    max_order_notional: Dollars
    close: MarketClose
    policy: ExecutionPolicy
    """Walk or marketable, per item."""
    peg_check_interval: timedelta | None = None
    """How often an inside-spread step looks at the live quote; None: never within a step."""
    max_repegs_per_step: int = 0


class SmartOrder:
    def __init__(
        self,
        run: ItemRun,
        side: Side,
        work: ItemWork,
        profile: PricingProfile,
        tools: SmartOrderTools,
    ) -> None:
        self._run = run
        self._side = side
        self._work = work
        self._profile = profile
        self._tools = tools

    async def execute(self, arrival: Quote | None) -> None:
        """Work the item to its end; how it ended is written to the item's run."""
        run = self._run
        if self._tools.close.passed():
            run.end(ItemEnding.CANCELED, self._tools.close.reason)
            return
        quote = await self._quote(arrival)
        if isinstance(quote, NoUsableQuote):
            self._stop(ItemEnding.ERRORED, quote.reason)
            return
        run.arrival = quote
        skip = self._work.start(quote)
        if self._work.target_qty is not None:
            run.planned_qty = Shares(self._earlier_filled_qty() + self._work.target_qty)
        if skip is not None:
            self._end_without_orders(skip)
            return
        run.execution = self._tools.policy.choose(quote, self._profile)
        if run.execution.execution is Execution.MARKETABLE:
            await self._market_order(quote, fallback=False)
        else:
            outcome, latest = await self._walk(quote)
            if outcome is _Next.CONTINUE:
                await self._market_fallback(latest)
        run.end(ItemEnding.WORKED)

    def _end_without_orders(self, skip: Skip) -> None:
        """Nothing to send: skipped, or already completed by an earlier attempt's fills."""
        run = self._run
        earlier = self._earlier_filled_qty()
        done_earlier = skip.reason in _NOTHING_TRADABLE_LEFT or (
            skip.reason is SkipReason.NOTHING_HELD and run.item.is_full_exit
        )
        if earlier > 0 and done_earlier:
            run.planned_qty = earlier
            run.end(ItemEnding.WORKED, "completed by an earlier attempt")
        else:
            run.end(ItemEnding.SKIPPED, f"{skip.reason}: {skip.detail}")

    async def _walk(self, quote: Quote) -> tuple[_Next, Quote]:
        """CONTINUE when the walk ran out of steps (the market fallback is next), with the
        latest usable quote."""
        step, working = -1, None
        while True:
            peg = next_peg(self._side, quote, self._profile, after_step=step, working=working)
            if peg is None:
                return _Next.CONTINUE, quote
            limit = self._limit_at(peg.price, quote)
            rested = await self._rest_limit(limit, peg.step)
            if rested.outcome is not _Next.CONTINUE:
                return rested.outcome, quote
            if isinstance(self._work.next_qty(limit, self._children()), Skip):
                return _Next.DONE, quote
            # An unusable quote that ended the resting is read again: the cancel that followed
            # it may have waited out an outage, and the market may be priceable again.
            fresh = rested.quote if isinstance(rested.quote, Quote) else await self._quote()
            if isinstance(fresh, NoUsableQuote):
                self._stop(ItemEnding.WORKED, f"stopped: {fresh.reason}")
                return _Next.STOP, quote
            quote, step, working = fresh, rested.step, rested.limit or limit

    async def _rest_limit(self, limit: Price, step: int) -> _Rested:
        """Send `limit` for `step` and let it rest (`_rest`)."""
        sent = await self._send_limit(limit, step)
        if isinstance(sent, _Rested):
            return sent
        return await self._rest(sent.cid, sent.limit, step)

    async def _send_limit(self, limit: Price, step: int) -> _Rested | _Working:
        """Send a limit for the remainder; one that follows an earlier limit is a re-peg."""
        earlier_limits = any(order.order_type is OrderType.LIMIT for order in self._children())
        order = await self._send(OrderType.LIMIT, limit, limit)
        if not isinstance(order, ChildOrder):
            return _Rested(order, step, limit=limit)
        if earlier_limits:
            self._run.repegs += 1
        return _Working(order.client_order_id, limit)

    async def _rest(self, cid: str, limit: Price, step: int) -> _Rested:
        """Let `cid` rest through `step` (following its price within the step), and on through
        each next step that, priced from a fresh quote, asks for the working price too; then
        cancel it unless it ended by itself. The quote that ended the resting comes back with
        the step reached and the last price worked."""
        last_step = self._profile.step_count - 1
        while True:
            working = await self._rest_through_step(cid, limit, step)
            if isinstance(working, _Rested):
                return working
            cid, limit = working.cid, working.limit
            if step == last_step:
                why = await self._last_step_cancel_reason()
                return _Rested(await self._cancel_then_continue(cid, why), step, limit=limit)
            quote = await self._quote()
            if isinstance(quote, NoUsableQuote) or not holds_working_price(
                self._side, quote, self._profile, step=step + 1, working=limit
            ):
                outcome = await self._cancel_then_continue(cid, CancelReason.REPEG)
                return _Rested(outcome, step, quote, limit)
            step += 1

    async def _rest_through_step(self, cid: str, limit: Price, step: int) -> _Rested | _Working:
        """Rest `cid` for the step's wait. In an inside-spread step the live quote is looked
        at every `peg_check_interval`; when the step's price ran away from us the order is
        re-pegged there, on the same step, its clock running on (bounded per step). The order
        still working at the step's end comes back as `_Working`."""
        tools, loop = self._tools, asyncio.get_running_loop()
        step_end = loop.time() + self._profile.step_wait.total_seconds()
        follows = step < len(self._profile.fractions) and tools.peg_check_interval is not None
        repegs = 0
        while True:
            left = max(step_end - loop.time(), 0.0)
            checks = follows and repegs < tools.max_repegs_per_step
            wait = min(left, _seconds(tools.peg_check_interval)) if checks else left
            order = await tools.tracker.wait_until(cid, is_terminal, timedelta(seconds=wait))
            if order.is_terminal:
                return _Rested(await self._after_terminal(order), step, limit=limit)
            if wait >= left:
                return _Working(cid, limit)
            quote = await self._quote(attempts=1)
            if isinstance(quote, NoUsableQuote):
                continue
            target = price_ran_from(self._side, quote, self._profile, step=step, working=limit)
            if target is None:
                continue
            repegged = await self._repeg_within_step(cid, target, quote, step)
            if isinstance(repegged, _Rested):
                return repegged
            cid, limit = repegged.cid, repegged.limit
            repegs += 1

    async def _repeg_within_step(
        self, cid: str, target: Price, quote: Quote, step: int
    ) -> _Rested | _Working:
        """Cancel `cid`, confirm, re-read its fills and send only the remainder at `target`."""
        outcome = await self._cancel_then_continue(cid, CancelReason.REPEG)
        if outcome is not _Next.CONTINUE:
            return _Rested(outcome, step, limit=target)
        return await self._send_limit(self._limit_at(target, quote), step)

    async def _quote(
        self, first: Quote | None = None, *, attempts: int | None = None
    ) -> Quote | NoUsableQuote:
        """A usable quote for the item, kept in its run for the ledger."""
        quote = await self._tools.quotes.usable(self._run.symbol, first, attempts=attempts)
        if isinstance(quote, Quote):
            self._run.saw_quote(quote)
        return quote

    def _far_touch(self, quote: Quote) -> Price:
        return quote.ask if self._side is Side.BUY else quote.bid

    def _limit_at(self, price: Price, quote: Quote) -> Price:
        """`price` as the work allows it for the remainder, given the far touch of `quote`."""
        return self._work.limit_for(price, self._far_touch(quote), self._children())

    async def _last_step_cancel_reason(self) -> CancelReason:
        """After the last limit: REPEG when a market order will follow, else PRICE_RAN."""
        quote = await self._quote()
        if isinstance(quote, NoUsableQuote) or not self._fallback_allowed(quote):
            return CancelReason.PRICE_RAN
        return CancelReason.REPEG

    async def _market_fallback(self, quote: Quote) -> None:
        """`quote` was read after the last limit was confirmed terminal."""
        run = self._run
        if not self._fallback_allowed(quote):
            if not isinstance(self._work.next_qty(quote.mid, self._children()), Skip):
                cap = self._profile.market_fallback_cap_bps
                run.note(f"no market fallback: price ran more than {cap} bps from arrival")
            return
        await self._market_order(quote, fallback=True)

    async def _market_order(self, quote: Quote, *, fallback: bool) -> None:
        """One DAY market order for the remainder, sized at the far touch of `quote` (a sell's
        shares rounded down, a buy within its budget), waited on for the profile's market wait
        and cancelled if still open then. The walk's fallback, or a marketable item's order."""
        run = self._run
        order = await self._send(OrderType.MARKET, None, self._far_touch(quote))
        if not isinstance(order, ChildOrder):
            return
        if fallback:
            run.market_fallback = True
        cid = order.client_order_id
        order = await self._tools.tracker.wait_until(cid, is_terminal, self._profile.market_wait)
        if order.is_open:
            run.note(f"market order unfilled after {self._profile.market_wait}")
            await self._cancel_then_continue(cid, CancelReason.WAIT_EXPIRED)
        else:
            await self._after_terminal(order)

    def _stop(self, ending: ItemEnding, reason: str) -> None:
        """End the item for `reason`, unless the market has closed meanwhile: then that is
        why it stops (a quote after the close is no reason of its own)."""
        close = self._tools.close
        if close.passed():
            self._run.end(ItemEnding.CANCELED, close.reason)
        else:
            self._run.end(ending, reason)

    def _fallback_allowed(self, quote: Quote) -> bool:
        arrival = self._run.arrival
        cap = self._profile.market_fallback_cap_bps
        return arrival is not None and market_fallback_allowed(self._side, arrival.mid, quote, cap)

    async def _send(
        self, order_type: OrderType, limit: Price | None, sizing_price: Price
    ) -> ChildOrder | _Next:
        """Size the remainder at `sizing_price` and submit it; DONE when nothing is left."""
        run = self._run
        sized = self._work.next_qty(sizing_price, self._children())
        if isinstance(sized, Skip):
            if not run.child_ids and not run.earlier_ids:  # nothing was ever sent: a skip
                run.end(ItemEnding.SKIPPED, f"{sized.reason.value}: {sized.detail}")
            return _Next.DONE
        notional = notional_of(sized.qty, sizing_price)
        cap = self._tools.max_order_notional
        if notional > cap:
            run.end(ItemEnding.ERRORED, f"order of {notional} exceeds max_order_notional {cap}")
            return _Next.STOP
        cid = self._tools.ids.next_id(run.symbol, self._side)
        run.child_ids.append(cid)
        request = OrderRequest(cid, run.symbol, self._side, order_type, sized.qty, limit)
        try:
            return await self._tools.desk.submit(request)
        except MarketClosed as closed:
            run.child_ids.remove(cid)  # refused before it was tracked or sent
            run.end(ItemEnding.CANCELED, str(closed))
        except OrderRejected as error:
            run.end(ItemEnding.ERRORED, f"order {cid} rejected by the broker: {error}")
        except BrokerError as error:
            run.end(ItemEnding.ERRORED, f"broker unavailable submitting {cid}: {error}")
        return _Next.STOP

    async def _cancel_then_continue(self, cid: str, why: CancelReason) -> _Next:
        """Cancel and confirm, asking again until the broker confirms (incident 7: nothing is
        sent while the order could still fill; an outage only delays the confirmation)."""
        order = await self._tools.desk.cancel_until_confirmed(cid, why)
        return await self._after_terminal(order)

    async def _after_terminal(self, order: ChildOrder) -> _Next:
        order = await self._tools.desk.settle_price(order.client_order_id)
        if order.status is ChildOrderStatus.REJECTED:
            self._run.end(ItemEnding.ERRORED, f"order {order.client_order_id} rejected")
            return _Next.STOP
        return _Next.CONTINUE

    def _children(self) -> list[ChildOrder]:
        return [self._tools.tracker.get(cid) for cid in self._run.child_ids]

    def _earlier_filled_qty(self) -> Shares:
        earlier = [self._tools.tracker.get(cid).filled_qty for cid in self._run.earlier_ids]
        return Shares(sum(earlier, ZERO))
