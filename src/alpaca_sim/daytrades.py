"""Day trades, counted as FINRA counts them, and Alpaca's legacy pattern day trader protection.

A day trade is a buy and a later sell of the same security in one session: per symbol, every
sell that follows a buy in the session's sequence of executions is one (FINRA's examples in
Alpaca's docs, User Protection: buy, buy, sell is one day trade; buy, sell, buy, sell is two;
buy 199, buy 142, sell 1, buy 45, sell 100, sell 200 is two). The simulator holds longs only,
so a short sale and its cover never occur.

The protection (Alpaca docs, User Protection, "Pattern Day Trader (PDT) Protection", before
FINRA's revised Rule 4210 retired it on 2026-07-06): an order that could make a day trade is
refused with 403 when the account already has 3 day trades in the last 5 business days and the
previous close's equity is under $25,000; "a pair of buy and sell orders is counted as a
potential day trade" whatever their order, pending orders included. The refusal's code and
message are recorded answers (forum.alpaca.markets/t/2201 "trade denied due to pattern day
trading protection"; code 40310100 in several client codebases that handle it).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from alpaca_sim.decimals import Dollars
from alpaca_sim.errors import SimError
from alpaca_sim.orders import Fill, SimOrder
from alpaca_sim.scenario import AccountTerms
from alpaca_sim.session import SessionCalendar

PDT_DENIED = 40310100
PDT_MESSAGE = "trade denied due to pattern day trading protection"
PDT_MIN_EQUITY = Dollars(Decimal(25000))
PDT_DAY_TRADES = 3
"""With this many day trades in the window, the next one would designate the account."""
WINDOW_SESSIONS = 5
_MAX_DAYS_BACK = 60


@dataclass(frozen=True)
class DayTradeBook:
    """What the count reads: the executions so far and the day trades made before the start."""

    calendar: SessionCalendar
    fills: Sequence[Fill]
    carried: int
    carried_on: date | None
    """The session the scenario's `daytrade_count` counts as made on (the one before the start)."""

    def count(self, at: datetime) -> int:
        """Day trades in the last 5 business days, the session of `at` included."""
        window = recent_sessions(self.calendar, trading_day(self.calendar, at), WINDOW_SESSIONS)
        made = sum(day_trades(self.fills_on(day)) for day in window)
        return made + (self.carried if self.carried_on in window else 0)

    def fills_on(self, day: date) -> list[Fill]:
        """The executions of the session on `day`, in order."""
        return [f for f in self.fills if trading_day(self.calendar, f.at) == day]


def trading_day(calendar: SessionCalendar, at: datetime) -> date:
    """The session `at` is in, or the next one (an order sent after the close trades then)."""
    return calendar.close_for(at).date()


def recent_sessions(calendar: SessionCalendar, last: date, count: int) -> list[date]:
    """`last` and the sessions before it, `count` in all."""
    days: list[date] = []
    day = last
    for _ in range(_MAX_DAYS_BACK):
        if calendar.session_on(day) is not None:
            days.append(day)
            if len(days) == count:
                break
        day -= timedelta(days=1)
    return days


def session_before(calendar: SessionCalendar, at: datetime) -> date | None:
    earlier = recent_sessions(calendar, trading_day(calendar, at) - timedelta(days=1), 1)
    return earlier[0] if earlier else None


def day_trades(session: Iterable[Fill]) -> int:
    """Sells that follow a buy of the same symbol in one session's executions."""
    last_side: dict[str, str] = {}
    trades = 0
    for fill in session:
        if fill.side == "sell" and last_side.get(fill.symbol) == "buy":
            trades += 1
        last_side[fill.symbol] = fill.side
    return trades


def could_day_trade(
    side: str, symbol: str, book: DayTradeBook, open_orders: Iterable[SimOrder], at: datetime
) -> bool:
    """Whether an order could complete a day trade: a sell of what was bought today or is
    being bought, or a buy while a sell is pending (pending pairs count either way round)."""
    opposite = any(o.symbol == symbol and o.side != side and o.is_open for o in open_orders)
    if side == "buy" or opposite:
        return opposite
    today = book.fills_on(trading_day(book.calendar, at))
    return any(f.symbol == symbol and f.side == "buy" for f in today)


def check_pattern_day_trading(
    terms: AccountTerms,
    last_equity: Dollars,
    day_trades: int,
    potential_day_trade: bool,
) -> None:
    """Refuse the order as Alpaca's legacy PDT protection did (margin accounts only)."""
    if not (terms.is_margin and terms.legacy_pdt) or last_equity >= PDT_MIN_EQUITY:
        return
    flagged = day_trades >= PDT_DAY_TRADES or terms.pattern_day_trader
    if flagged and potential_day_trade:
        raise SimError(403, PDT_DENIED, PDT_MESSAGE)
