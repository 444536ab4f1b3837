"""The one sizing path: dollars and a price in, a share quantity or a reasoned skip out.

Predecessor incidents this module makes impossible:
1. dollars sent as a share count: amounts are `Dollars`, quantities `Shares`, and no usable price
   means no quantity at all;
2. a liquidation rounded up past the holding: sells never exceed what is held and a full exit
   sells exactly the held quantity;
3. a non-fractionable remainder rounded to zero and sent: a zero quantity is a `Skip`, and buys
   and sells share `_quantise`, so there is no second path to forget.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from plan_executor.domain.money import QTY_QUANTUM, ZERO, Dollars, Price, Shares, notional_of

MIN_NOTIONAL = Dollars(Decimal(1))
"""Alpaca's minimum order value, for every order: whole shares of a sub-dollar stock too (Alpaca
staff, forum.alpaca.markets/t/13116: "Orders smaller than $1 are not allowed", refused 403
"cost basis must be >= minimal amount of order 1"). Alpaca values an order at its limit price,
a market order at the far side of the quote: the prices the smart order sizes at."""

WHOLE_SHARE = Decimal(1)


@dataclass(frozen=True, slots=True)
class AssetTerms:
    """What the broker allows for one asset."""

    fractionable: bool
    tradable: bool


class SkipReason(StrEnum):
    """Why no order is sent."""

    NOT_TRADABLE = "not_tradable"
    NO_USABLE_PRICE = "no_usable_price"
    NOTHING_TO_TRADE = "nothing_to_trade"
    NOTHING_HELD = "nothing_held"
    ROUNDS_TO_ZERO = "rounds_to_zero"
    BELOW_MIN_NOTIONAL = "below_min_notional"


@dataclass(frozen=True, slots=True)
class Sized:
    """An order quantity that may be sent, with its value at the sizing price."""

    qty: Shares
    notional: Dollars
    full_exit: bool = False


@dataclass(frozen=True, slots=True)
class Skip:
    """No order: the reason, and a short human detail for the result."""

    reason: SkipReason
    detail: str


def size_buy(
    amount: Dollars,
    price: Price | None,
    terms: AssetTerms,
    *,
    min_notional: Dollars = MIN_NOTIONAL,
) -> Sized | Skip:
    """Shares that `amount` buys at `price`, rounded down to what the asset allows."""
    usable = _usable_price(price, terms)
    if isinstance(usable, Skip):
        return usable
    if amount <= 0:
        return Skip(SkipReason.NOTHING_TO_TRADE, f"buy amount {amount} is not positive")
    if amount < min_notional:
        return _below_minimum(amount, min_notional)
    qty = _quantise(amount / usable, terms)
    if qty <= 0:
        detail = f"{amount} buys less than {_smallest(terms)} at {usable}"
        return Skip(SkipReason.ROUNDS_TO_ZERO, detail)
    return _checked(qty, usable, min_notional, full_exit=False)


def size_sell(
    target: Dollars,
    price: Price | None,
    held: Shares,
    terms: AssetTerms,
    *,
    full_exit: bool,
    min_notional: Dollars = MIN_NOTIONAL,
) -> Sized | Skip:
    """Shares to sell for `target` dollars, never more than `held`.

    A full exit ignores `target` and sells exactly the held quantity (whole shares only, if the
    asset is not fractionable).
    """
    usable = _usable_price(price, terms)
    if isinstance(usable, Skip):
        return usable
    if held <= 0:
        return Skip(SkipReason.NOTHING_HELD, f"holding is {held}")
    if full_exit:
        return _checked(_quantise(held, terms), usable, min_notional, full_exit=True)
    if target <= 0:
        return Skip(SkipReason.NOTHING_TO_TRADE, f"sell amount {target} is not positive")
    wanted = min(target / usable, held)
    return _checked(_quantise(wanted, terms), usable, min_notional, full_exit=False)


def capped_sell_qty(
    amount: Dollars, price: Price, sized: Shares, terms: AssetTerms
) -> Shares | None:
    """The shares `amount` asks for at `price` when `sized` (what `size_sell` gave at that
    price) is fewer: the sell was capped at the holding. None when it was not."""
    if amount <= 0 or price <= 0:
        return None
    asked = _quantise(amount / price, terms)
    return asked if sized < asked else None


def remaining_notional(planned: Dollars, filled: Dollars) -> Dollars:
    """Dollars still to trade after `filled`; never negative (a fill may overshoot by cents)."""
    if planned < 0 or filled < 0:
        raise ValueError(f"amounts must not be negative: planned {planned}, filled {filled}")
    return Dollars(max(planned - filled, ZERO))


def remaining_qty(order_qty: Shares, filled_qty: Shares) -> Shares:
    """Shares of an order not yet filled: the only quantity a re-peg may send (incident 6)."""
    if order_qty < 0 or filled_qty < 0:
        raise ValueError(f"quantities must not be negative: {order_qty}, {filled_qty}")
    return Shares(max(order_qty - filled_qty, ZERO))


def quantise_qty(raw: Decimal, terms: AssetTerms) -> Shares:
    """A raw share count rounded DOWN to what the asset allows (9 decimals or whole shares)."""
    return _quantise(raw, terms)


def _quantise(raw: Decimal, terms: AssetTerms) -> Shares:
    quantum = QTY_QUANTUM if terms.fractionable else WHOLE_SHARE
    return Shares(raw.quantize(quantum, rounding=ROUND_DOWN))


def _usable_price(price: Price | None, terms: AssetTerms) -> Price | Skip:
    if not terms.tradable:
        return Skip(SkipReason.NOT_TRADABLE, "asset is not tradable")
    if price is None or not price.is_finite() or price <= 0:
        return Skip(SkipReason.NO_USABLE_PRICE, f"no usable price ({price})")
    return price


def _smallest(terms: AssetTerms) -> str:
    return f"{QTY_QUANTUM:f} of a share" if terms.fractionable else "one whole share"


def _checked(qty: Shares, price: Price, min_notional: Dollars, *, full_exit: bool) -> Sized | Skip:
    if qty <= 0:
        return Skip(SkipReason.ROUNDS_TO_ZERO, "quantity rounds down to zero")
    notional = notional_of(qty, price)
    if notional < min_notional:
        return _below_minimum(notional, min_notional)
    return Sized(qty=qty, notional=notional, full_exit=full_exit)


def _below_minimum(amount: Dollars, min_notional: Dollars) -> Skip:
    return Skip(SkipReason.BELOW_MIN_NOTIONAL, f"{amount} is below the {min_notional} minimum")
