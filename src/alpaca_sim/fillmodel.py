"""Fill models: what an order that may trade gets from the market. A scenario chooses one with
its top-level `"fill_model"`: `"paper"` (the default, and any scenario that omits the key) or
`"live"`. Both read the same market: the price path, the spreads and the flow's arrivals are
the same for a seed whichever model runs, so one plan can be compared on both.

paper: Alpaca's paper engine, as Alpaca documents it (docs, "Paper trading",
https://docs.alpaca.markets/docs/paper-trading; the older "Paper Trading Specification",
https://alpaca.markets/deprecated/docs/trading-on-alpaca/paper-trading/). It is the default
because the sim emulates the paper endpoint, the world users test in.
  * An order fills only when it is marketable against the NBBO, and then at the quote: a buy at
    the ask, a sell at the bid.
  * "Your order quantity is not checked against the NBBO quantities": the whole order fills
    whatever size the quote displays.
  * Random partial fills about 10 % of the time: each time an order fills, with probability
    0.10 (the scenario's `partial_fill_share`) it gets only 10-90 % of what is left, drawn per
    fill and keyed on the seed and the order's client_order_id. Alpaca does not say what
    happens to the rest, and we found no recorded answer; here it keeps working and may fill
    at a later market step while the order is still marketable (each such fill again partial
    with the same chance). A fill-or-kill order is never split (FOK forbids a partial fill);
    an IOC order's rest is canceled at once, as IOC requires.
  * No price improvement, no queue position, no market impact ("paper trading does not account
    for: market impact, information leakage, price slippage due to latency, order queue
    position, price improvement"). No other trader's order ever fills ours: a passive limit,
    inside the spread or at our own touch, fills only once the quote moves through it, and
    then at the quote. Flow configured in a paper scenario therefore fills nothing.

live: the market a real order from a retail broker meets.
  * Orders marketable on arrival (market orders, and limits marketable when they first meet a
    live quote) go to a wholesaler, which fills them inside the spread: a buy at
    mid + ratio x half-spread, a sell at mid - ratio x half-spread. Ratio = the wholesaler's
    effective/quoted spread; April 2025 medians 0.43 (Citadel) and 0.5 (Virtu) (S3/BMLL data,
    globaltrading.net, "six market makers ... 666m"), and Alpaca routes its S&P 500 market
    orders largely to such wholesalers (Alpaca's FINRA Rule 606 report, 2024 Q3). Each order
    draws its ratio uniformly from 0.38-0.55 (mean 0.465, inside the reported band), keyed on
    the seed and its client_order_id. The price is on a $0.0001 grid for stocks at or above $1 (a
    hundredth of a cent; wholesalers print sub-penny improvements such as an AAPL buy at
    609.1499 against a 609.15 offer, Nanex, "Bad Apples in AAPL", 2012; the SEC kept executions
    below the quoting tick allowed when it amended Rule 612 in 2024), $0.000001 below $1, to
    the nearest point of that grid: never beyond the mid, never worse than the quote.
  * Size: the whole order fills whatever the displayed size. A wholesaler executes a retail
    order internally, as principal, not against the displayed book (SEC, Order Competition
    Rule proposal, Release 34-96495, 2022: wholesalers "typically execute the marketable orders
    of individual investors internally"; six of them receive 90 % of those orders); the orders
    this sim sees are retail-sized (a plan's children are hundreds to a few thousand dollars).
  * Orders that rest (limits not marketable when they meet the quote) fill through other
    traders' flow (alpaca_sim.flow): at their limit, inside the spread first, at the touch
    behind the displayed size, with adverse selection (part of the flow trades in the
    direction the mid is about to move). A resting limit the quote moves through fills at its
    limit: it was on the book first, so the incoming seller (buyer) trades with it there.
"""

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from alpaca_sim.decimals import Price, tick_for
from alpaca_sim.draws import keyed_unit, text_key
from alpaca_sim.market import Market, Quote
from alpaca_sim.matching import (
    Execution,
    cut_to,
    marketable_touch,
    tradable_quote,
    whole_remainder,
)
from alpaca_sim.orders import SimOrder
from alpaca_sim.scenario import Scenario

_PARTIAL_LEAST, _PARTIAL_MOST = 0.1, 0.9  # share of the remainder a partial fill takes
IMPROVEMENT_RATIO_CENTRE = Decimal("0.465")  # between Citadel's 0.43 and Virtu's 0.5
IMPROVEMENT_RATIO_HALF_RANGE = Decimal("0.085")  # ratios 0.38-0.55
_GRID_PER_TICK = 100  # the improvement grid: a hundredth of the quoting tick
_DRAW_PARTIAL, _DRAW_FRACTION, _DRAW_RATIO = 1, 2, 3  # keep the keyed draws apart


class FillModel(Protocol):
    @property
    def uses_flow(self) -> bool:
        """Whether other traders' flow fills resting orders under this model."""
        ...

    def find(
        self, order: SimOrder, market: Market, at: datetime, *, whole_shares: bool
    ) -> tuple[Quote, Execution] | None:
        """What `order` executes now against the market (market open is the caller's check)."""
        ...


def fill_model_for(scenario: Scenario, seed: int) -> FillModel:
    if scenario.fill_model == "live":
        return LiveFills(seed)
    return PaperFills(seed, scenario.partial_fill_share)


class PaperFills:
    """Alpaca's paper engine: marketable orders at the quote, whole, partial ~10 % of the time."""

    uses_flow = False

    def __init__(self, seed: int, partial_fill_share: float) -> None:
        self._seed = seed
        self._partial_fill_share = partial_fill_share

    def find(
        self, order: SimOrder, market: Market, at: datetime, *, whole_shares: bool
    ) -> tuple[Quote, Execution] | None:
        quote = tradable_quote(order, market, at)
        price = None if quote is None else marketable_touch(order, quote)
        if quote is None or price is None:
            return None
        execution = whole_remainder(order, price, whole_shares=whole_shares)
        if execution is None:
            return None
        return quote, self._maybe_partial(order, execution, whole_shares=whole_shares)

    def _maybe_partial(
        self, order: SimOrder, execution: Execution, *, whole_shares: bool
    ) -> Execution:
        key, nth = _order_key(order), len(order.fills)
        partial = keyed_unit(self._seed, key, nth, _DRAW_PARTIAL) < self._partial_fill_share
        if order.time_in_force == "fok" or not partial:
            return execution
        share = _PARTIAL_LEAST + (_PARTIAL_MOST - _PARTIAL_LEAST) * keyed_unit(
            self._seed, key, nth, _DRAW_FRACTION
        )
        most = execution.qty * Decimal(f"{share:.6f}")
        return cut_to(execution, most, whole_shares=whole_shares)


class LiveFills:
    """A real market: wholesaler price improvement on arrival, flow for resting orders."""

    uses_flow = True

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._resting: set[str] = set()  # limits seen not marketable against a live quote

    def find(
        self, order: SimOrder, market: Market, at: datetime, *, whole_shares: bool
    ) -> tuple[Quote, Execution] | None:
        quote = tradable_quote(order, market, at)
        if quote is None:
            return None
        touch = marketable_touch(order, quote)
        if touch is None:
            if order.order_type == "limit":
                self._resting.add(order.id)
            return None
        price = self._price(order, quote, touch)
        execution = whole_remainder(order, price, whole_shares=whole_shares)
        return None if execution is None else (quote, execution)

    def _price(self, order: SimOrder, quote: Quote, touch: Price) -> Price:
        if order.id in self._resting and order.limit_price is not None:
            return order.limit_price  # the market came through a resting limit
        if not quote.two_sided:
            return touch  # no mid to improve towards
        return improved_price(order.side, quote, self.ratio_for(order))

    def ratio_for(self, order: SimOrder) -> Decimal:
        """The order's effective/quoted spread ratio, 0.38-0.55, keyed on seed and client id."""
        unit = keyed_unit(self._seed, _order_key(order), _DRAW_RATIO)
        return IMPROVEMENT_RATIO_CENTRE + IMPROVEMENT_RATIO_HALF_RANGE * Decimal(
            f"{2 * unit - 1:.4f}"
        )


def _order_key(order: SimOrder) -> int:
    """Draws for an order are keyed on its client_order_id: the same order of the same plan
    gets the same partial fills and improvement on a seed, whatever happened around it."""
    return text_key(order.client_order_id)


def improved_price(side: str, quote: Quote, ratio: Decimal) -> Price:
    """The wholesaler's price: `ratio` of the half-spread from the mid towards the touch, to the
    nearest point of a grid a hundredth of the tick."""
    mid = quote.mid
    grid = tick_for(mid) / _GRID_PER_TICK
    offset = ((quote.ask - quote.bid) / 2 * ratio).quantize(grid, rounding=ROUND_HALF_EVEN)
    price = mid + offset if side == "buy" else mid - offset
    return Price(price.quantize(grid, rounding=ROUND_HALF_EVEN))
