"""Other traders' marketable orders ("flow"): what hits our resting limit orders under the `live`
fill model (alpaca_sim.fillmodel; the paper engine lets no other trader fill ours).

Each symbol with flow owns a stream of arrivals, a Poisson process in *session time* drawn from
its own generator (three draws per arrival: the gap, the side, the size), so the sequence of
arrivals is a pure function of the seed, however often anyone looks. An arriving sell meets our
resting buys that are the best bid: strictly inside the spread first (best price, then time),
then those resting at the bid, which queue behind the displayed bid size (it was there first);
it fills each at its limit, up to the arriving size. Symmetric for arriving buys. Flow that
meets none of our orders trades with the displayed book and leaves it as it was.

Adverse selection. A share `informed_share` of the arrivals is informed: it buys when the mid
will be higher `INFORMED_HORIZON_SECONDS` later and sells when it will be lower (when it will
not move, it trades like the rest); the others buy or sell with equal chance. This is the
Glosten-Milgrom market (Glosten and Milgrom 1985, J. Financial Economics 14(1)): some traders
know where the price is going, so a resting order fills more often just before the price moves
against it (a resting buy is hit by informed sellers before the mid falls). The direction comes
from the price path itself, read ahead (Market.mid_direction), which is a pure function of the
seed, so the flow stays one too, and the path never depends on the flow. Default share 0.15:
estimates of the probability of informed trading (PIN; Easley, Kiefer, O'Hara and Paperman
1996, J. Finance 51(4)) are lower for actively traded stocks, of the order of 0.1-0.2. The
one-minute horizon is an assumption within the span at which the amended SEC Rule 605 (2024)
measures realized spreads, the post-trade move that adverse selection shows in (50 ms to five
minutes).
"""

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import partial

from alpaca_sim.decimals import ZERO, Price, Shares, floor_qty
from alpaca_sim.market import Market, Quote
from alpaca_sim.matching import Execution
from alpaca_sim.orders import SimOrder
from alpaca_sim.scenario import FlowSpec, Scenario
from alpaca_sim.session import SessionCalendar

_SECONDS_PER_MINUTE = 60.0
INFORMED_HORIZON_SECONDS = 60.0

Direction = Callable[[datetime], int]  # +1 / -1 / 0: where the mid goes after an instant


@dataclass(frozen=True)
class Arrival:
    at: datetime
    side: str  # the arriving order's side: a "sell" hits our buys
    qty: Shares


@dataclass(frozen=True)
class _Draw:
    at: datetime
    side_draw: float  # uniform in [0, 1): decides the side, informed or not
    qty: Shares


class FlowStream:
    """One symbol's arrivals, generated lazily and in order from `origin`."""

    def __init__(
        self,
        rng: random.Random,
        spec: FlowSpec,
        origin: datetime,
        calendar: SessionCalendar,
        direction: Direction | None = None,
    ) -> None:
        self._rng = rng
        self._rate_per_second = spec.rate_per_min / _SECONDS_PER_MINUTE
        self._mean_size = spec.mean_size
        self._informed_share = spec.informed_share if direction is not None else 0.0
        self._direction = direction
        self._calendar = calendar
        self._last = origin
        self._next: Arrival | None = None

    def next_from(self, at: datetime) -> Arrival:
        """The first arrival at or after `at`; earlier ones (nobody was resting) are dropped."""
        arrival = self._next
        if arrival is None or arrival.at < at:
            draw = self._draw()
            while draw.at < at:
                draw = self._draw()
            arrival = self._next = Arrival(draw.at, self._side(draw), draw.qty)
        return arrival

    def consume(self) -> None:
        self._next = None

    def _draw(self) -> _Draw:
        gap = self._rng.expovariate(self._rate_per_second)
        side_draw = self._rng.random()
        size = max(1, round(self._rng.expovariate(1.0 / self._mean_size)))
        self._last = self._calendar.instant_after(self._last, timedelta(seconds=gap))
        return _Draw(self._last, side_draw, Shares(Decimal(size)))

    def _side(self, draw: _Draw) -> str:
        informed = self._informed_share
        if draw.side_draw < informed:
            assert self._direction is not None, "informed flow needs the price path"
            heading = self._direction(draw.at)
            if heading:
                return "buy" if heading > 0 else "sell"
            coin = draw.side_draw / informed  # the mid will not move: trades like the rest
        else:
            coin = (draw.side_draw - informed) / (1 - informed)
        return "buy" if coin < 0.5 else "sell"


def flow_streams(
    scenario: Scenario, market: Market, origin: datetime, calendar: SessionCalendar
) -> dict[str, FlowStream]:
    """The arrivals of every symbol with flow, informed by `market`'s price path."""
    horizon = max(1, round(INFORMED_HORIZON_SECONDS / scenario.step_seconds))
    return {
        symbol: FlowStream(
            market.flow_generator(symbol),
            spec,
            origin,
            calendar,
            partial(market.mid_direction, symbol, steps_ahead=horizon),
        )
        for symbol, spec in sorted(scenario.flow.items())
        if spec.active
    }


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
