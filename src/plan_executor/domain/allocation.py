"""Share the buying power actually available among the plan's buys.

A reserve (`buy_reserve_fraction`) is held back. It was sized for Alpaca's older rule that
valued a market buy 2.5-4 % above the market; Alpaca's docs now value it at the ask during the
core session ("Placing Orders", initial buying power checks), so what the reserve still covers
is the ask moving between the quote read and the order. When the rest is short, priority 1 is
served first; the priority level where the money runs out is reduced pro rata; lower levels get
nothing. Grants are rounded down to the cent, so their sum never exceeds what is available.
Zero (or negative) buying power is an answer, not an error: the predecessor's check raised on 0
and aborted after its sells.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from itertools import groupby

from plan_executor.domain.money import CENT, ZERO, Dollars


class AllocationReason(StrEnum):
    """How a buy's grant was decided."""

    IN_FULL = "in_full"
    REDUCED_PRO_RATA = "reduced_pro_rata"
    """The money ran out at this priority level; it was shared pro rata."""
    NO_FUNDS_LEFT = "no_funds_left"
    """Nothing was left for this priority level (higher levels used it, or there was none)."""
    BELOW_MIN_NOTIONAL = "below_min_notional"
    """The request, or its pro-rata share, is below the broker's minimum."""


@dataclass(frozen=True, slots=True)
class BuyRequest:
    symbol: str
    priority: int
    amount: Dollars


@dataclass(frozen=True, slots=True)
class BuyAllocation:
    symbol: str
    requested: Dollars
    granted: Dollars
    reason: AllocationReason


def spendable(available: Dollars, reserve_fraction: Decimal) -> Dollars:
    """Buying power left after the collar reserve, to the cent, never negative."""
    if not ZERO <= reserve_fraction < 1:
        raise ValueError(f"reserve_fraction must be in [0, 1), got {reserve_fraction}")
    if available <= 0:
        return Dollars(ZERO)
    return _cents_down(available * (1 - reserve_fraction))


def allocate_buys(
    requests: Sequence[BuyRequest],
    available: Dollars,
    *,
    reserve_fraction: Decimal,
    min_notional: Dollars,
) -> list[BuyAllocation]:
    """One allocation per request, in the order given."""
    if min_notional < 0:
        raise ValueError(f"min_notional must not be negative, got {min_notional}")
    budget = spendable(available, reserve_fraction)
    decided: dict[int, BuyAllocation] = {}
    eligible: list[tuple[int, BuyRequest]] = []
    for index, request in enumerate(requests):
        if request.amount <= 0 or _cents_down(request.amount) < min_notional:
            decided[index] = _grant(request, ZERO, AllocationReason.BELOW_MIN_NOTIONAL)
        else:
            eligible.append((index, request))
    eligible.sort(key=lambda entry: entry[1].priority)
    for _, level in groupby(eligible, key=lambda entry: entry[1].priority):
        level_grants = _allocate_level(list(level), budget, min_notional)
        decided.update(level_grants)
        budget = Dollars(budget - sum((grant.granted for grant in level_grants.values()), ZERO))
    return [decided[index] for index in range(len(requests))]


def _allocate_level(
    level: list[tuple[int, BuyRequest]], budget: Dollars, min_notional: Dollars
) -> dict[int, BuyAllocation]:
    """Grants for one priority level: in full if the budget allows, else pro rata."""
    wanted = sum((_cents_down(request.amount) for _, request in level), ZERO)
    if wanted <= budget:
        return {
            index: _grant(request, _cents_down(request.amount), AllocationReason.IN_FULL)
            for index, request in level
        }
    if budget < min_notional:
        return {
            index: _grant(request, ZERO, AllocationReason.NO_FUNDS_LEFT) for index, request in level
        }
    return _pro_rata(level, budget, min_notional)


def _pro_rata(
    level: list[tuple[int, BuyRequest]], budget: Dollars, min_notional: Dollars
) -> dict[int, BuyAllocation]:
    """Share `budget` pro rata; shares below the minimum are dropped and the rest re-shared."""
    decided: dict[int, BuyAllocation] = {}
    sharing = list(level)
    shares: dict[int, Dollars] = {}
    while sharing:
        shares = _shares_of(sharing, budget)
        too_small = [entry for entry in sharing if shares[entry[0]] < min_notional]
        if not too_small:
            break
        # Drop the smallest share first: removing it raises everyone else's share.
        smallest = min(too_small, key=lambda entry: shares[entry[0]])
        decided[smallest[0]] = _grant(smallest[1], ZERO, AllocationReason.BELOW_MIN_NOTIONAL)
        sharing.remove(smallest)
    for index, request in sharing:
        granted = shares[index]
        full = granted == _cents_down(request.amount)
        reason = AllocationReason.IN_FULL if full else AllocationReason.REDUCED_PRO_RATA
        decided[index] = _grant(request, granted, reason)
    return decided


def _shares_of(sharing: list[tuple[int, BuyRequest]], budget: Dollars) -> dict[int, Dollars]:
    """Each request's pro-rata part of `budget`, in cents, capped at what it asked for."""
    wanted = sum((request.amount for _, request in sharing), ZERO)
    return {
        index: min(_cents_down(budget * request.amount / wanted), _cents_down(request.amount))
        for index, request in sharing
    }


def _grant(request: BuyRequest, granted: Decimal, reason: AllocationReason) -> BuyAllocation:
    return BuyAllocation(request.symbol, request.amount, Dollars(granted.quantize(CENT)), reason)


def _cents_down(amount: Decimal) -> Dollars:
    return Dollars(amount.quantize(CENT, rounding=ROUND_DOWN))
