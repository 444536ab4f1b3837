"""Other traders' marketable orders ("flow"): what hits our resting limit orders.

Each symbol with flow owns a stream of arrivals, a Poisson process in *session time* drawn from
its own generator (three draws per arrival: the gap, the side, the size), so the sequence of
arrivals is a pure function of the seed, however often anyone looks. An arriving sell meets our
resting buys that are the best bid: strictly inside the spread first (best price, then time),
then those resting at the bid, which queue behind the displayed bid size (it was there first);
it fills each at its limit, up to the arriving size. Symmetric for arriving buys. Flow that
meets none of our orders trades with the displayed book and leaves it as it was.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from alpaca_sim.decimals import ZERO, Price, Shares, floor_qty
from alpaca_sim.market import Quote
from alpaca_sim.matching import Execution
from alpaca_sim.orders import SimOrder
from alpaca_sim.scenario import FlowSpec
from alpaca_sim.session import SessionCalendar

_SECONDS_PER_MINUTE = 60.0


@dataclass(frozen=True)
class Arrival:
    at: datetime
    side: str  # the arriving order's side: a "sell" hits our buys
    qty: Shares


class FlowStream:
    """One symbol's arrivals, generated lazily and in order from `origin`."""

    def __init__(
        self, rng: random.Random, spec: FlowSpec, origin: datetime, calendar: SessionCalendar
    ) -> None:
        self._rng = rng
        self._rate_per_second = spec.rate_per_min / _SECONDS_PER_MINUTE
        self._mean_size = spec.mean_size
        self._calendar = calendar
        self._last = origin
        self._next: Arrival | None = None

    def next_from(self, at: datetime) -> Arrival:
        """The first arrival at or after `at`; earlier ones (nobody was resting) are dropped."""
        arrival = self._next or self._draw()
        while arrival.at < at:
            arrival = self._draw()
        self._next = arrival
        return arrival

    def consume(self) -> None:
        self._next = None

    def _draw(self) -> Arrival:
        gap = self._rng.expovariate(self._rate_per_second)
        side = "buy" if self._rng.random() < 0.5 else "sell"
        size = max(1, round(self._rng.expovariate(1.0 / self._mean_size)))
        self._last = self._calendar.instant_after(self._last, timedelta(seconds=gap))
        return Arrival(self._last, side, Shares(Decimal(size)))


def flow_can_trade(quote: Quote, at: datetime, stale_after: timedelta) -> bool:
    """Flow trades only against a live, two-sided, uncrossed quote."""
    return quote.two_sided and not quote.crossed and at - quote.timestamp <= stale_after


def is_hit_by(order: SimOrder, arrival_side: str, quote: Quote) -> bool:
    """Our resting limit on the side `arrival_side` trades with, at or inside our touch and not
    marketable against the far touch (marketable orders are the ordinary matcher's)."""
    limit = order.limit_price
    if order.order_type != "limit" or limit is None or order.side == arrival_side:
        return False
    if order.side == "buy":
        return quote.bid <= limit < quote.ask
    return quote.bid < limit <= quote.ask


def flow_fills(
    arrival: Arrival,
    resting: Iterable[SimOrder],
    quote: Quote,
    displayed_ahead: Shares,
    *,
    whole_shares: bool,
) -> list[tuple[SimOrder, Execution]]:
    """What `arrival` executes against our `resting` orders (those `is_hit_by` it), in price
    then time priority; `displayed_ahead` is the displayed size queued at our touch."""
    hit = [o for o in resting if is_hit_by(o, arrival.side, quote)]
    buying = arrival.side == "sell"
    touch = quote.bid if buying else quote.ask
    hit.sort(key=lambda o: (_limit(o) * (-1 if buying else 1), o.seq))
    left = arrival.qty
    behind_displayed = False
    fills: list[tuple[SimOrder, Execution]] = []
    for order in hit:
        price = _limit(order)
        if price == touch and not behind_displayed:
            behind_displayed = True
            left = Shares(max(ZERO, left - displayed_ahead))
        if left <= ZERO:
            break
        qty = floor_qty(min(order.remaining_qty, left))
        if whole_shares:
            qty = Shares(qty.to_integral_value(rounding=ROUND_DOWN))
        if qty <= ZERO:
            continue
        fills.append((order, Execution(price, qty)))
        left = Shares(left - qty)
    return fills


def _limit(order: SimOrder) -> Price:
    assert order.limit_price is not None, "only limit orders are hit by flow"
    return order.limit_price
