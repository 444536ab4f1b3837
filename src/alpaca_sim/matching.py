"""Matching rules as pure functions: when an order may execute against a quote, at what price
and for how much."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from alpaca_sim.decimals import ZERO, Price, Shares, floor_qty, round_to_tick
from alpaca_sim.market import Market, Quote
from alpaca_sim.orders import SimOrder


@dataclass(frozen=True)
class Execution:
    price: Price
    qty: Shares


def can_trade_against(quote: Quote, side: str, at: datetime, stale_after: timedelta) -> bool:
    """Only a live, uncrossed quote whose touch on our side exists can be traded against."""
    if quote.crossed or at - quote.timestamp > stale_after:
        return False
    price, size = quote.touch(side)
    return price > 0 and size > 0


def is_marketable(side: str, limit: Decimal, touch: Decimal) -> bool:
    return touch <= limit if side == "buy" else touch >= limit


def collar_price(side: str, reference: Quote, collar_pct: Decimal) -> Price:
    """Alpaca turns market orders into limits this far through the last ask (buy) / bid (sell)."""
    factor = collar_pct / Decimal(100)
    if side == "buy":
        return round_to_tick(reference.ask * (1 + factor), up=False)
    return round_to_tick(reference.bid * (1 - factor), up=True)


def execution_for(
    order: SimOrder, quote: Quote, available: Shares, *, whole_shares: bool
) -> Execution | None:
    """What `order` takes from `quote` now: at the touch, up to `available`, within its limit."""
    price, _ = quote.touch(order.side)
    limit = order.price_limit
    if price <= 0 or (limit is not None and not is_marketable(order.side, limit, price)):
        return None
    wanted = order.remaining_notional / price if order.is_notional else order.remaining_qty
    qty = floor_qty(min(wanted, available))
    if whole_shares:
        qty = Shares(qty.to_integral_value(rounding=ROUND_DOWN))
    return Execution(price, qty) if qty > ZERO else None


def is_complete(order: SimOrder, last_price: Price) -> bool:
    """Nothing left to execute: no shares, or less notional than one 1e-9 share costs."""
    if order.is_notional:
        return floor_qty(order.remaining_notional / last_price) <= ZERO
    return order.remaining_qty <= ZERO


def fills_completely(order: SimOrder, execution: Execution | None) -> bool:
    """FOK: the execution available now would complete the whole order."""
    if execution is None:
        return False
    if order.is_notional:
        return floor_qty(order.remaining_notional / execution.price) <= execution.qty
    return execution.qty >= order.remaining_qty


def find_execution(
    order: SimOrder, market: Market, at: datetime, *, whole_shares: bool
) -> tuple[Quote, Execution] | None:
    """What `order` can take from the live market at `at` (market open is the caller's check)."""
    if market.is_halted(order.symbol):
        return None
    quote = market.quote(order.symbol, at)
    if not can_trade_against(quote, order.side, at, market.stale_after):
        return None
    execution = execution_for(
        order, quote, market.available(quote, order.side), whole_shares=whole_shares
    )
    return None if execution is None else (quote, execution)


def race_winning_execution(order: SimOrder, quote: Quote) -> Execution | None:
    """A forced fill of the whole remainder: at the touch if marketable, else at its limit."""
    touch, _ = quote.touch(order.side)
    limit = order.price_limit
    price = touch
    if touch <= 0 or (limit is not None and not is_marketable(order.side, limit, touch)):
        if limit is None:
            return None
        price = limit
    qty = floor_qty(order.remaining_notional / price) if order.is_notional else order.remaining_qty
    return Execution(price, qty) if qty > ZERO else None
