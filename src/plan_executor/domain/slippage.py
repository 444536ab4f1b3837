"""Execution cost against the arrival mid, in basis points; positive is worse for us."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from plan_executor.domain.enums import Side
from plan_executor.domain.money import ZERO, Bps, Dollars, Price

BPS_PER_UNIT = Decimal(10_000)
BPS_QUANTUM = Decimal("0.01")


def slippage_bps(side: Side, avg_price: Price, arrival_mid: Price) -> Bps:
    """How much worse than the arrival mid `avg_price` was: paying more on a buy, receiving
    less on a sell, both positive. Rounded to 0.01 bps."""
    return _bps(_raw_slippage(side, avg_price, arrival_mid))


def _raw_slippage(side: Side, avg_price: Price, arrival_mid: Price) -> Decimal:
    if arrival_mid <= 0:
        raise ValueError(f"arrival mid must be positive, got {arrival_mid}")
    if avg_price <= 0:
        raise ValueError(f"average price must be positive, got {avg_price}")
    return adverse_sign(side) * (avg_price - arrival_mid) / arrival_mid * BPS_PER_UNIT


def adverse_sign(side: Side) -> int:
    """+1 when a higher price is worse for us (buying), -1 when a lower one is (selling)."""
    if side == Side.BUY:
        return 1
    if side == Side.SELL:
        return -1
    raise ValueError(f"unknown side {side!r}")


@dataclass(frozen=True, slots=True)
class ShortfallItem:
    """One item's fills: side, average price, arrival mid and the filled notional (its weight)."""

    side: Side
    avg_price: Price
    arrival_mid: Price
    filled_notional: Dollars


def implementation_shortfall_bps(items: Iterable[ShortfallItem]) -> Bps | None:
    """Slippage of all items weighted by filled notional; None when nothing was filled."""
    weighted = ZERO
    total = ZERO
    for item in items:
        if item.filled_notional < 0:
            raise ValueError(f"filled notional must not be negative, got {item.filled_notional}")
        if item.filled_notional == 0:
            continue
        item_bps = _raw_slippage(item.side, item.avg_price, item.arrival_mid)
        weighted += item_bps * item.filled_notional
        total += item.filled_notional
    if total == 0:
        return None
    return _bps(weighted / total)


def _bps(value: Decimal) -> Bps:
    return Bps(value.quantize(BPS_QUANTUM, rounding=ROUND_HALF_EVEN))
