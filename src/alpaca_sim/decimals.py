"""Decimal helpers for the simulator: parsing wire numbers, tick rules, quantity rounding.

The simulator never imports plan_executor, so it has its own distinct money/quantity types.
"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation
from typing import NewType

Dollars = NewType("Dollars", Decimal)
Shares = NewType("Shares", Decimal)
Price = NewType("Price", Decimal)

ZERO = Decimal(0)
CENT = Decimal("0.01")
SUB_DOLLAR_TICK = Decimal("0.0001")
MAX_QTY_DECIMALS = 9
QTY_QUANTUM = Decimal(1).scaleb(-MAX_QTY_DECIMALS)


def to_decimal(value: object) -> Decimal:
    """Parse a JSON number or numeric string without float rounding; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal):
        parsed = value
    elif isinstance(value, int):
        parsed = Decimal(value)
    elif isinstance(value, float):
        parsed = Decimal(repr(value))  # the shortest repr is what the sender meant
    elif isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    else:
        raise ValueError(f"not a number: {value!r}")
    if not parsed.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return parsed


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite decimals only
    return max(0, -exponent)


def is_whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def tick_for(price: Decimal) -> Decimal:
    return CENT if price >= 1 else SUB_DOLLAR_TICK


def is_on_tick(price: Decimal) -> bool:
    return decimal_places(price) <= decimal_places(tick_for(price))


def round_to_tick(price: Decimal, *, up: bool) -> Price:
    rounded = price.quantize(tick_for(price), rounding=ROUND_UP if up else ROUND_DOWN)
    # Rounding can cross $1 (0.99999 -> 1.0000); re-quantize with the tick of the result.
    return Price(rounded.quantize(tick_for(rounded), rounding=ROUND_UP if up else ROUND_DOWN))


def floor_qty(qty: Decimal) -> Shares:
    return Shares(qty.quantize(QTY_QUANTUM, rounding=ROUND_DOWN))


def to_cents(amount: Decimal) -> Dollars:
    return Dollars(amount.quantize(CENT, rounding=ROUND_HALF_EVEN))


def cents_up(amount: Decimal) -> Dollars:
    return Dollars(amount.quantize(CENT, rounding=ROUND_UP))


def fmt(value: Decimal) -> str:
    """Plain decimal string without exponent or trailing zeros, as Alpaca's JSON shows."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def fmt_money(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_EVEN), "f")
