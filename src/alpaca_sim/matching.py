"""Matching rules as pure functions: when an order may execute against a quote, at what price
and for how much. The fill models (alpaca_sim.fillmodel) decide which of them apply."""

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


def marketable_touch(order: SimOrder, quote: Quote) -> Price | None:
    """The touch `order` would take (ask for buys, bid for sells) if it is marketable against it
    within its limit; None if not (or the side is empty)."""
    price, _ = quote.touch(order.side)
    limit = order.price_limit
    if price <= 0 or (limit is not None and not is_marketable(order.side, limit, price)):
        return None
    return price


def whole_remainder(order: SimOrder, price: Price, *, whole_shares: bool) -> Execution | None:
    """All that is left of `order` at `price` (a notional order: the shares its remaining
    dollars buy, to 1e-9 of a share), in whole shares where the asset is not fractionable."""
    wanted = order.remaining_notional / price if order.is_notional else order.remaining_qty
    qty = tradable_qty(wanted, whole_shares=whole_shares)
    return Execution(price, qty) if qty > ZERO else None


def cut_to(execution: Execution, most: Decimal, *, whole_shares: bool) -> Execution:
    """`execution` taking at most `most` shares (rounded down to what the asset trades in), or
    unchanged when that would leave nothing or everything."""
    qty = tradable_qty(most, whole_shares=whole_shares)
    return Execution(execution.price, qty) if ZERO < qty < execution.qty else execution


def tradable_qty(qty: Decimal, *, whole_shares: bool) -> Shares:
    """`qty` rounded down to 1e-9 of a share, or to whole shares."""
    floored = floor_qty(qty)
    return Shares(floored.to_integral_value(rounding=ROUND_DOWN)) if whole_shares else floored


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


def tradable_quote(order: SimOrder, market: Market, at: datetime) -> Quote | None:
    """The quote `order` may trade against at `at`: none while halted, stale, crossed or empty
    on its side (market open is the caller's check)."""
    if market.is_halted(order.symbol):
        return None
    quote = market.quote(order.symbol, at)
    return quote if can_trade_against(quote, order.side, at, market.stale_after) else None


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
