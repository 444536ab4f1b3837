"""Buying power and margin figures of the simulated account, cash or margin.

- Cash account: cash less what open buys hold (Alpaca docs, "Placing Orders": open buy orders
  reduce available buying power; sells add to it only once executed). Nothing is borrowed.
- Reg T buying power of a margin account: multiplier x equity - long market value, the
  multiplier capped at 2 (Alpaca staff, forum.alpaca.markets/t/5656: "buying_power =
  (multiplier x equity) - sum(long and short holdings)", 1 under $2,000 of equity, 2 for Reg T;
  and "regT_buying_power = (2 x equity) - (long_value + short_value)"). The account recorded in
  alpaca-py's tests (tests/trading/trading_client/test_account_routes.py) agrees: equity
  103820.56, long_market_value 126960.76, regt_buying_power 80680.36.
- Day trading buying power, multiplier 4 under the legacy PDT rule only: 4 x (last_equity -
  last_maintenance_margin) at the start of the day, reduced by each position entered today and
  credited back when it is exited the same day; buying_power is the larger of the two (Alpaca
  docs, User Protection, "Day Trade Margin Call (DTMC) Protection"; the recorded account:
  4 x (103529.24 - 38000.832) = 262113.632, its daytrading_buying_power and buying_power).
- Requirements: initial margin 50 % and maintenance margin 30 % of long market value (the
  recorded account: 63480.38 and 38088.228 of 126960.76); 100 % for a share under $2.50 (Alpaca
  staff's maintenance table, github.com/alpacahq/Alpaca-API/issues/98).

Open buy orders reduce every figure (they are reserved). `non_marginable_buying_power` has no
public formula; for a margin account the simulator reports the Reg T excess equity (half the
Reg T buying power), what could be bought without borrowing.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from alpaca_sim.account import Account, buy_hold
from alpaca_sim.decimals import ZERO, Dollars, Price, Shares
from alpaca_sim.market import Market
from alpaca_sim.orders import Fill, SimOrder
from alpaca_sim.scenario import AccountTerms, PositionSpec

INITIAL_MARGIN = Decimal("0.5")
MAINTENANCE_MARGIN = Decimal("0.3")
LOW_PRICED = Decimal("2.50")
REG_T_MULTIPLIER = 2
DAY_TRADING_MULTIPLIER = 4


@dataclass(frozen=True)
class Opening:
    """The account at the previous close (the scenario's start): the `last_*` figures."""

    equity: Dollars
    maintenance_margin: Dollars


@dataclass(frozen=True)
class Figures:
    buying_power: Dollars
    regt: Dollars
    daytrading: Dollars
    non_marginable: Dollars
    initial_margin: Dollars
    maintenance_margin: Dollars


def opening(
    cash: Dollars, positions: Mapping[str, PositionSpec], closes: Mapping[str, Price]
) -> Opening:
    values = {symbol: spec.qty * closes[symbol] for symbol, spec in positions.items()}
    equity = Dollars(cash + sum(values.values(), ZERO))
    return Opening(equity, maintenance_margin(values, closes))


def marks(market: Market, symbols: Iterable[str], at: datetime) -> dict[str, Price]:
    """Positions are valued at the mid of the latest usable quote."""
    return {symbol: market.last_good_quote(symbol, at).mid for symbol in symbols}


def maintenance_margin(values: Mapping[str, Decimal], prices: Mapping[str, Price]) -> Dollars:
    return Dollars(
        sum(
            (v * (1 if prices[s] < LOW_PRICED else MAINTENANCE_MARGIN) for s, v in values.items()),
            ZERO,
        )
    )


def figures(
    terms: AccountTerms,
    account: Account,
    *,
    prices: Mapping[str, Price],
    open_orders: Iterable[SimOrder],
    start_of_day: Opening,
    entered_today: Dollars,
) -> Figures:
    """Every buying power figure of the account now (`prices`: marks of its holdings)."""
    held = Dollars(sum((buy_hold(o) for o in open_orders), ZERO))
    if not terms.is_margin:
        cash_power = Dollars(account.cash - held)
        zero = Dollars(ZERO)
        return Figures(cash_power, cash_power, zero, cash_power, zero, zero)
    values = {s: h.qty * prices[s] for s, h in account.holdings.items()}
    long_value = Dollars(sum(values.values(), ZERO))
    equity = account.cash + long_value
    reg_t = max(ZERO, min(terms.multiplier, REG_T_MULTIPLIER) * equity - long_value)
    day = _day_trading(terms, start_of_day, entered_today)
    return Figures(
        buying_power=Dollars(max(reg_t, day) - held),
        regt=Dollars(reg_t - held),
        daytrading=Dollars(max(ZERO, day - held)) if terms.legacy_pdt else Dollars(ZERO),
        non_marginable=Dollars(max(ZERO, reg_t / 2 - held)),
        initial_margin=Dollars(long_value * INITIAL_MARGIN),
        maintenance_margin=maintenance_margin(values, prices),
    )


def bod_daytrading(terms: AccountTerms, start_of_day: Opening) -> Dollars:
    """Day trading buying power at the start of the day (0 unless a 4x legacy account)."""
    if not terms.legacy_pdt or terms.multiplier != DAY_TRADING_MULTIPLIER:
        return Dollars(ZERO)
    excess = start_of_day.equity - start_of_day.maintenance_margin
    return Dollars(max(ZERO, DAY_TRADING_MULTIPLIER * excess))


def _day_trading(terms: AccountTerms, start_of_day: Opening, entered_today: Dollars) -> Decimal:
    return max(ZERO, bod_daytrading(terms, start_of_day) - entered_today)


def entered(session: Iterable[Fill]) -> Dollars:
    """Cost of the shares one session bought and still holds (exits the same session credit it
    back)."""
    bought: dict[str, tuple[Decimal, Decimal]] = {}
    sold: dict[str, Decimal] = {}
    for fill in session:
        if fill.side == "buy":
            qty, value = bought.get(fill.symbol, (ZERO, ZERO))
            bought[fill.symbol] = (qty + fill.qty, value + fill.qty * fill.price)
        else:
            sold[fill.symbol] = sold.get(fill.symbol, ZERO) + fill.qty
    total = ZERO
    for symbol, (qty, value) in bought.items():
        still_held = Shares(max(ZERO, qty - sold.get(symbol, ZERO)))
        total += value / qty * still_held
    return Dollars(total)
