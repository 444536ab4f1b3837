"""How much an item still has to trade, through the one sizing path.

Sells carry a fixed share quantity, fixed once from the arrival quote (a full exit is exactly
the held quantity). Buys carry a dollar budget: each child is sized as (budget - filled
notional) / its own price, rounded down. Either way only the remainder is ever sent
(incident 6), because the filled quantity is re-read from the confirmed orders each time.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from plan_executor.domain.child_order import ChildOrder
from plan_executor.domain.enums import OrderType, Side
from plan_executor.domain.money import ZERO, Dollars, Price, Shares, notional_of
from plan_executor.domain.pricing import round_passive
from plan_executor.domain.quotes import Quote
from plan_executor.domain.sizing import (
    AssetTerms,
    Sized,
    Skip,
    SkipReason,
    remaining_qty,
    size_buy,
    size_sell,
)


class ItemWork(Protocol):
    def start(self, arrival: Quote) -> Skip | None:
        """Fix the item's target from the arrival quote; a Skip means nothing to send."""
        ...

    def next_qty(self, price: Price, children: Sequence[ChildOrder]) -> Sized | Skip:
        """The remainder, sized at `price`, after what `children` (all terminal) filled."""
        ...

    @property
    def target_qty(self) -> Shares | None:
        """The share quantity this attempt aims at, when it is share-sized."""
        ...

    def limit_for(self, price: Price, far: Price, children: Sequence[ChildOrder]) -> Price:
        """The limit to send for a step priced at `price` (`far`: the far touch)."""
        ...


@dataclass(slots=True)
class SellWork:
    held: Shares
    """Shares that may be sold (the position's available quantity)."""
    notional: Dollars
    """Dollars still to sell (ignored for a full exit)."""
    full_exit: bool
    terms: AssetTerms
    min_notional: Dollars
    _target: Shares | None = None

    @property
    def target_qty(self) -> Shares | None:
        return self._target

    def start(self, arrival: Quote) -> Skip | None:
        sized = size_sell(
            self.notional,
            arrival.mid,
            self.held,
            self.terms,
            full_exit=self.full_exit,
            min_notional=self.min_notional,
        )
        if isinstance(sized, Skip):
            return sized
        self._target = sized.qty
        return None

    def next_qty(self, price: Price, children: Sequence[ChildOrder]) -> Sized | Skip:
        if self._target is None:
            raise RuntimeError("start() must fix the target before sizing")
        filled = Shares(sum((child.filled_qty for child in children), ZERO))
        left = remaining_qty(self._target, filled)
        # "Sell exactly what is left" is a full exit of the remainder: same rounding, same minimum.
        return size_sell(
            notional_of(left, price),
            price,
            left,
            self.terms,
            full_exit=True,
            min_notional=self.min_notional,
        )

    def limit_for(self, price: Price, far: Price, children: Sequence[ChildOrder]) -> Price:
        return price


@dataclass(slots=True)
class BuyWork:
    budget: Dollars
    terms: AssetTerms
    min_notional: Dollars

    @property
    def target_qty(self) -> Shares | None:
        return None

    def start(self, arrival: Quote) -> Skip | None:
        """A Skip when the budget buys nothing even at the bid, the lowest price the walk
        ever bids (a whole-share asset dearer than the budget): no order could be sent."""
        sized = size_buy(self.budget, arrival.bid, self.terms, min_notional=self.min_notional)
        return sized if isinstance(sized, Skip) else None

    def next_qty(self, price: Price, children: Sequence[ChildOrder]) -> Sized | Skip:
        spent = spent_notional(children)
        if spent is None:
            return Skip(SkipReason.NO_USABLE_PRICE, "a market fill has no price yet")
        left = Dollars(max(self.budget - spent, ZERO))
        return size_buy(left, price, self.terms, min_notional=self.min_notional)

    def limit_for(self, price: Price, far: Price, children: Sequence[ChildOrder]) -> Price:
        """A buy through the far touch is sized at its limit (so it never spends more than the
        budget) but fills at the touch while it holds, leaving its quantity times the gap
        unspent. When that would leave the minimum or more (a second order just to spend it),
        the limit is brought down to where it would not, but never below half way from the
        touch to `price`, so the order stays marketable if the touch moves."""
        spent = spent_notional(children)
        if price <= far or spent is None:
            return price
        left = self.budget - spent
        if left <= self.min_notional:
            return price
        slack_free = round_passive(Side.BUY, far * left / (left - self.min_notional))
        half_way = round_passive(Side.BUY, (far + price) / 2)
        capped = max(min(price, slack_free), half_way)
        return capped if capped > far else price


def spent_notional(children: Sequence[ChildOrder]) -> Dollars | None:
    """Dollars the children filled for. A limit fill without a broker price yet is bounded
    by its limit (a buy never fills above it), so the remainder is never oversized; a market
    fill without a price has no bound and gives None."""
    total = ZERO
    for child in children:
        if child.filled_qty == 0:
            continue
        price = child.avg_fill_price
        if price is None and child.order_type is OrderType.LIMIT:
            price = child.limit_price
        if price is None:
            return None
        total += child.filled_qty * price
    return Dollars(total)


def filled_notional(children: Sequence[ChildOrder]) -> Dollars | None:
    """Dollars the children filled for at the broker's average prices; None while any fill
    has no price (it is never estimated)."""
    total = ZERO
    for child in children:
        if child.filled_qty == 0:
            continue
        if child.avg_fill_price is None:
            return None
        total += child.filled_qty * child.avg_fill_price
    return Dollars(total)
