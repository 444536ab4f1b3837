"""Simulated market: per-symbol seeded random walks quoted with a spread, scripted quotes, halts.

Each symbol owns a child generator seeded from the venue's one generator, and its mid moves
one draw per fixed step of *session time*. A symbol's path is therefore a pure function of the
seed and the step index, however often (or rarely) anyone looks at it, and whichever fill model
the scenario uses (the models read the path, never draw from it). `mid_units_at` reads the walk
ahead of the present on a copy of its generator, for the informed part of the flow.

Spreads. A symbol quoted in `spread_ticks` shows, at each step, a spread of a whole number of
ticks drawn from its distribution by a keyed draw of (symbol seed, step) (alpaca_sim.draws), so
the spread too is a pure function of the seed and the step, and it is drawn afresh each step
(real spreads widen in short bursts; this keeps no memory between steps). The default
scenario's distributions are assumptions calibrated to two published observations, as no
source we found gives the per-symbol share of time at one tick:
  * "Tick-constrained stocks are stocks that almost always have a bid-offer spread that is 1 cent
    wide"; about 570 tickers traded with an average spread under 1.08 cents (P. Mackintosh,
    Nasdaq, "The Tick-Constrained Stock Problem", Traders Magazine). An average of 1.08 cents
    with the excess at 2 cents means one tick about 92 % of the time: SPY and NVDA (1 tick
    95 % / 92 %) are of that kind;
  * wider, multi-cent spreads for high-priced names, the spread growing roughly with the price
    among stocks of the same size (Nasdaq, "Three charts that show how smart traders compress
    wide spreads"): MSFT, TSLA and BRK.B (near $500 and $430) are at one tick only about half
    the time or less, AAPL, AMZN, GOOGL, JNJ and XOM (at $120-$300) 75-85 % of the time.
The tick is $0.01 at or above $1 (Reg NMS Rule 612). The 2024 amendment adding a $0.005 tick
for stocks whose time-weighted quoted spread is at most $0.015 is not modelled: the SEC granted
temporary exemptive relief from its compliance (Federal Register 2025-19926, November 2025).
Symbols quoted in `spread_bps` keep a fixed spread in basis points, rounded outward to ticks.
"""

import copy
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from alpaca_sim.decimals import Price, Shares, round_to_tick, tick_for
from alpaca_sim.draws import keyed_unit
from alpaca_sim.scenario import Scenario, Spread
from alpaca_sim.session import SessionCalendar

_MID_UNIT = Decimal("0.0001")  # the walk moves in hundredths of a cent
_SESSION_SECONDS_PER_YEAR = 252 * 6.5 * 3600
_INDEX_CACHE_SIZE = 4096
_FLOW_SALT = 0x5DEECE66D_F10F  # sets a symbol's flow generator apart from its price path's
_FUTURE_KEPT = 4096  # mids seen ahead, kept per symbol before the past ones are dropped


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Price
    ask: Price
    bid_size: Shares
    ask_size: Shares
    timestamp: datetime
    version: tuple[int, int]  # (step, script revision): displayed size refreshes when it changes

    @property
    def crossed(self) -> bool:
        return self.bid > 0 and self.ask > 0 and self.bid > self.ask

    @property
    def two_sided(self) -> bool:
        return self.bid > 0 and self.ask > 0 and self.bid_size > 0 and self.ask_size > 0

    @property
    def mid(self) -> Price:
        return Price((self.bid + self.ask) / 2)

    def touch(self, side: str) -> tuple[Price, Shares]:
        """The price and size an order on `side` would take: the ask for buys, bid for sells."""
        return (self.ask, self.ask_size) if side == "buy" else (self.bid, self.bid_size)


@dataclass(frozen=True)
class ScriptedQuote:
    bid: Price
    ask: Price
    bid_size: Shares
    ask_size: Shares
    age: timedelta
    hold: bool
    from_step: int
    revision: int


class PricePath:
    """One symbol's discretised random walk of the mid, in integer units of $0.0001."""

    def __init__(
        self,
        rng: random.Random,
        *,
        start: Decimal,
        volatility: Decimal,
        spread: Spread,
        size: int,
        step_seconds: float,
        lot: int = 1,
        key: int,
    ) -> None:
        self._rng = rng
        self._mid_units = int(start / _MID_UNIT)
        per_step = math.sqrt(step_seconds / _SESSION_SECONDS_PER_YEAR)
        self._sigma_units = float(volatility) * float(start / _MID_UNIT) * per_step
        self._spread = spread
        self._key = key  # keys the per-step spread draw
        self._size = size
        self._lot = lot  # displayed sizes are whole multiples of it (round lots before 2025-11-03)
        self.step = 0
        self._cached: Quote | None = None
        self._bid_size = max(1, round(size * (0.5 + rng.random())))
        self._ask_size = max(1, round(size * (0.5 + rng.random())))
        self._ahead: PricePath | None = None  # a copy walking ahead (mid_units_at)
        self._future: dict[int, int] = {}  # mids the copy saw, by step

    def advance_to(self, step: int) -> None:
        if step <= self.step:
            return
        gauss, uniform = self._rng.gauss, self._rng.random
        sigma, size, mid = self._sigma_units, self._size, self._mid_units
        bid_size, ask_size = self._bid_size, self._ask_size
        for _ in range(step - self.step):  # hot loop: plain ints, one walk draw + two sizes
            mid = max(1, mid + round(gauss(0.0, sigma)))
            bid_size = max(1, round(size * (0.5 + uniform())))
            ask_size = max(1, round(size * (0.5 + uniform())))
        self._mid_units, self._bid_size, self._ask_size = mid, bid_size, ask_size
        self.step = step

    def quote(self, symbol: str, at: datetime) -> Quote:
        if self._cached is not None and self._cached.version[0] == self.step:
            return self._cached
        mid = self._mid_units * _MID_UNIT
        if self._spread.ticks:
            ticks = self._spread.ticks_for(keyed_unit(self._key, self.step))
            bid, ask = _tick_spread(mid, ticks)
        else:
            half_spread = mid * self._spread.bps / Decimal(20000)
            bid = round_to_tick(mid - half_spread, up=False)
            ask = round_to_tick(mid + half_spread, up=True)
        if bid <= 0:
            bid = round_to_tick(mid / 2, up=False)
        if ask <= bid:
            ask = round_to_tick(bid + bid / Decimal(10000), up=True)
        sizes = _displayed(self._bid_size, self._lot), _displayed(self._ask_size, self._lot)
        self._cached = Quote(symbol, bid, ask, sizes[0], sizes[1], at, (self.step, 0))
        return self._cached

    def mid_units_at(self, step: int) -> int:
        """The walk's mid at `step`, now or ahead (read on a copy; the path itself stays)."""
        if step < self.step:
            raise ValueError(f"the walk keeps no past: step {step} < {self.step}")
        if step == self.step:
            return self._mid_units
        known = self._future.get(step)
        if known is None:
            known = self._walk_ahead(step)
        return known

    def _walk_ahead(self, step: int) -> int:
        ahead = self._ahead
        if ahead is None or ahead.step < self.step:
            ahead = self._ahead = copy.copy(self)
            ahead._rng = random.Random()  # noqa: S311 - seeded simulation (state set next)
            ahead._rng.setstate(self._rng.getstate())
            ahead._ahead, ahead._future, ahead._cached = None, {}, None
            self._future = {}
        while ahead.step < step:
            ahead.advance_to(ahead.step + 1)
            self._future[ahead.step] = ahead._mid_units
        if len(self._future) > _FUTURE_KEPT:
            self._future = {s: m for s, m in self._future.items() if s >= self.step}
        return self._future[step]


def _tick_spread(mid: Decimal, ticks: int) -> tuple[Price, Price]:
    """A quote `ticks` ticks wide around `mid` (the mid within half a tick of its centre)."""
    tick = tick_for(mid)
    bid = (mid - tick * ticks / 2).quantize(tick, rounding=ROUND_HALF_EVEN)
    return Price(bid), round_to_tick(bid + tick * ticks, up=True)


def _displayed(size: int, lot: int) -> Shares:
    """A drawn size as the quote shows it: the nearest whole number of lots, at least one."""
    return Shares(Decimal(max(lot, round(size / lot) * lot)))


class Market:
    def __init__(
        self, scenario: Scenario, rng: random.Random, origin: datetime, calendar: SessionCalendar
    ) -> None:
        self._origin = origin
        self._calendar = calendar
        self._step = timedelta(seconds=scenario.step_seconds)
        self.stale_after = timedelta(seconds=scenario.stale_after_seconds)
        self._paths: dict[str, PricePath] = {}
        self._seeds: dict[str, int] = {}
        for symbol in sorted(scenario.prices):
            self._seeds[symbol] = rng.getrandbits(64)
            child = random.Random(self._seeds[symbol])  # noqa: S311 - seeded simulation
            self._paths[symbol] = PricePath(
                child,
                start=scenario.prices[symbol],
                volatility=scenario.volatility[symbol],
                spread=scenario.spreads[symbol],
                size=scenario.sizes[symbol],
                step_seconds=scenario.step_seconds,
                lot=scenario.quote_lot,
                key=self._seeds[symbol],
            )
        self._scripts: dict[str, ScriptedQuote] = {}
        self._halted: dict[str, Quote] = {}
        self._revision = 0
        self._last_good: dict[str, Quote] = {}
        self._index_cache: dict[datetime, int] = {}
        self._time_cache: dict[int, datetime] = {}

    @property
    def symbols(self) -> list[str]:
        return list(self._paths)

    def flow_generator(self, symbol: str) -> random.Random:
        """The generator of `symbol`'s flow: seeded from the symbol's own seed, apart from its
        price path, so turning flow on or off leaves every price path as it was."""
        return random.Random(self._seeds[symbol] ^ _FLOW_SALT)  # noqa: S311 - seeded simulation

    def step_index(self, at: datetime) -> int:
        known = self._index_cache.get(at)
        if known is None:
            known = self._calendar.session_time_between(self._origin, at) // self._step
            self._remember(at, known)
        return known

    def step_time(self, step: int) -> datetime:
        at = self._time_cache.get(step)
        if at is None:
            at = self._calendar.instant_after(self._origin, self._step * step)
            self._remember(at, step)
        return at

    def _remember(self, at: datetime, step: int) -> None:
        if len(self._index_cache) >= _INDEX_CACHE_SIZE:
            self._index_cache.clear()
            self._time_cache.clear()
        self._index_cache[at] = step
        self._time_cache.setdefault(step, at)

    def next_step_time(self, after: datetime) -> datetime:
        return self.step_time(self.step_index(after) + 1)

    def quote(self, symbol: str, at: datetime) -> Quote:
        """The displayed quote at `at` (halted: frozen; scripted: as scripted)."""
        halted = self._halted.get(symbol)
        if halted is not None:
            return halted
        step = self.step_index(at)
        path = self._paths[symbol]
        path.advance_to(step)
        quote = self._scripted(symbol, step, at) or path.quote(symbol, self.step_time(step))
        if quote.two_sided and not quote.crossed:
            self._last_good[symbol] = quote
        return quote

    def last_good_quote(self, symbol: str, at: datetime) -> Quote:
        """The latest two-sided, uncrossed quote seen (the collar's reference)."""
        self.quote(symbol, at)
        good = self._last_good.get(symbol)
        if good is not None:
            return good
        path = self._paths[symbol]
        return path.quote(symbol, self.step_time(path.step))

    def is_halted(self, symbol: str) -> bool:
        return symbol in self._halted

    def halt(self, symbol: str, at: datetime) -> None:
        if symbol not in self._halted:
            self._halted[symbol] = self.quote(symbol, at)

    def resume(self, symbol: str) -> None:
        self._halted.pop(symbol, None)
        self._revision += 1

    def script(
        self,
        symbol: str,
        *,
        bid: Price,
        ask: Price,
        bid_size: Shares,
        ask_size: Shares,
        age: timedelta,
        hold: bool,
        at: datetime,
    ) -> None:
        self._revision += 1
        self._scripts[symbol] = ScriptedQuote(
            bid, ask, bid_size, ask_size, age, hold, self.step_index(at), self._revision
        )

    def clear_script(self, symbol: str) -> None:
        self._scripts.pop(symbol, None)
        self._revision += 1

    def scripted_symbols(self) -> list[str]:
        return sorted(self._scripts)

    def halted_symbols(self) -> list[str]:
        return sorted(self._halted)

    def mid_direction(self, symbol: str, at: datetime, steps_ahead: int) -> int:
        """+1 if `symbol`'s walk (not a scripted quote) is higher `steps_ahead` market steps
        after `at` than at `at`, -1 if lower, 0 if unchanged."""
        path = self._paths[symbol]
        step = self.step_index(at)
        change = path.mid_units_at(step + steps_ahead) - path.mid_units_at(step)
        return (change > 0) - (change < 0)

    def _scripted(self, symbol: str, step: int, at: datetime) -> Quote | None:
        script = self._scripts.get(symbol)
        if script is None:
            return None
        if not script.hold and step > script.from_step:
            del self._scripts[symbol]  # a one-tick script lasts until the next market step
            return None
        return Quote(
            symbol,
            script.bid,
            script.ask,
            script.bid_size,
            script.ask_size,
            at - script.age,
            (step, script.revision),
        )
