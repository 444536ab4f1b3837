"""Money and quantity types.

Dollars, share quantities and per-share prices are all Decimal at runtime, but they are
distinct types to mypy: a function that takes `Shares` refuses `Dollars`. Incident 1 of the
predecessor (dollars sent as a share count) is a type error here.
"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import NewType

Dollars = NewType("Dollars", Decimal)
"""An amount of money in USD (notional, cash, buying power)."""

Shares = NewType("Shares", Decimal)
"""A quantity of shares; fractional for fractionable assets."""

Price = NewType("Price", Decimal)
"""Dollars per share."""

Bps = NewType("Bps", Decimal)
"""Basis points: 1/100 of a percent."""

ZERO = Decimal(0)
CENT = Decimal("0.01")
MAX_QTY_DECIMALS = 9
QTY_QUANTUM = Decimal(1).scaleb(-MAX_QTY_DECIMALS)
REPORT_ROUNDING = ROUND_HALF_EVEN
"""How a reported amount is rounded: to the nearest, ties to even. A report states what
happened, so the nearest value is the truest; ties to even add no bias to a column of them.
Amounts that decide what is sent are rounded toward zero instead, before they act."""
REPORT_CONTEXT = Context(prec=100, rounding=REPORT_ROUNDING)
"""Wide enough that rounding any recorded value (up to 30 integer digits) cannot overflow the
default 28 digits."""


def dollars(value: Decimal | int | str) -> Dollars:
    return Dollars(Decimal(value))


def shares(value: Decimal | int | str) -> Shares:
    return Shares(Decimal(value))


def price(value: Decimal | int | str) -> Price:
    return Price(Decimal(value))


def notional_of(qty: Shares, at: Price) -> Dollars:
    """The dollar value of `qty` shares at `at` per share."""
    return Dollars(qty * at)


def shares_for(amount: Dollars, at: Price) -> Shares:
    """Shares that `amount` buys at `at`, to 9 decimals, rounded down (never more than paid for)."""
    if at <= 0:
        raise ValueError(f"price must be positive, got {at}")
    return Shares((amount / at).quantize(QTY_QUANTUM, rounding=ROUND_DOWN))


def to_cents(amount: Decimal) -> Dollars:
    """`amount` in whole cents as a report gives it (`REPORT_ROUNDING`); never `-0.00`."""
    rounded = amount.quantize(CENT, context=REPORT_CONTEXT)
    return Dollars(rounded.copy_abs() if rounded == 0 else rounded)
