"""Simulated market: per-symbol seeded random walks quoted with a spread, scripted quotes, halts.

Each symbol owns a child generator seeded from the venue's one generator, and its mid moves
one draw per fixed step of *session time*. A symbol's path is therefore a pure function of the
seed and the step index, however often (or rarely) anyone looks at it.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from alpaca_sim.decimals import ZERO, Price, Shares, round_to_tick
from alpaca_sim.scenario import Scenario
from alpaca_sim.session import SessionCalendar

_MID_UNIT = Decimal("0.0001")  # the walk moves in hundredths of a cent
_SESSION_SECONDS_PER_YEAR = 252 * 6.5 * 3600
_INDEX_CACHE_SIZE = 4096
_FLOW_SALT = 0x5DEECE66D_F10F  # sets a symbol's flow generator apart from its price path's


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
        spread_bps: Decimal,
        size: int,
        step_seconds: float,
        lot: int = 1,
    ) -> None:
        self._rng = rng
        self._mid_units = int(start / _MID_UNIT)
        per_step = math.sqrt(step_seconds / _SESSION_SECONDS_PER_YEAR)
        self._sigma_units = float(volatility) * float(start / _MID_UNIT) * per_step
        self._spread_bps = spread_bps
        self._size = size
        self._lot = lot  # displayed sizes are whole multiples of it (round lots before 2025-11-03)
        self.step = 0
        self._cached: Quote | None = None
        self._bid_size = max(1, round(size * (0.5 + rng.random())))
        self._ask_size = max(1, round(size * (0.5 + rng.random())))

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
        half_spread = mid * self._spread_bps / Decimal(20000)
        bid = round_to_tick(mid - half_spread, up=False)
        ask = round_to_tick(mid + half_spread, up=True)
        if bid <= 0:
            bid = round_to_tick(mid / 2, up=False)
        if ask <= bid:
            ask = round_to_tick(bid + bid / Decimal(10000), up=True)
        sizes = _displayed(self._bid_size, self._lot), _displayed(self._ask_size, self._lot)
        self._cached = Quote(symbol, bid, ask, sizes[0], sizes[1], at, (self.step, 0))
        return self._cached


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
                spread_bps=scenario.spreads[symbol],
                size=scenario.sizes[symbol],
                step_seconds=scenario.step_seconds,
                lot=scenario.quote_lot,
            )
        self._scripts: dict[str, ScriptedQuote] = {}
        self._halted: dict[str, Quote] = {}
        self._revision = 0
        self._last_good: dict[str, Quote] = {}
        self._index_cache: dict[datetime, int] = {}
        self._time_cache: dict[int, datetime] = {}
        self._taken: dict[tuple[str, str], tuple[tuple[int, int], Decimal]] = {}

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

    def available(self, quote: Quote, side: str) -> Shares:
        """Displayed size on the side an order takes, minus what earlier orders took from it."""
        _, size = quote.touch(side)
        version, used = self._taken.get((quote.symbol, side), (quote.version, ZERO))
        return Shares(max(ZERO, size - (used if version == quote.version else ZERO)))

    def take(self, quote: Quote, side: str, qty: Shares) -> None:
        version, used = self._taken.get((quote.symbol, side), (quote.version, ZERO))
        previous = used if version == quote.version else ZERO
        self._taken[(quote.symbol, side)] = (quote.version, previous + qty)

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
