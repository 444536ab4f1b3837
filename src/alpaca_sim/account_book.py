"""The account side of the venue: its kind, its executions, its previous close, and from them
its buying power (margin.py) and its day trades (daytrades.py)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from alpaca_sim.account import Account
from alpaca_sim.daytrades import DayTradeBook, session_before, trading_day
from alpaca_sim.decimals import ZERO, Dollars
from alpaca_sim.margin import Figures, Opening, entered, figures, marks, opening
from alpaca_sim.market import Market
from alpaca_sim.orders import Fill, SimOrder
from alpaca_sim.scenario import AccountTerms, Scenario
from alpaca_sim.session import SessionCalendar


@dataclass(frozen=True)
class AccountBook:
    """What admission and the account view read of the account besides its cash and holdings."""

    terms: AccountTerms
    account: Account
    day_trades: DayTradeBook
    start_of_day: Opening

    def figures(self, market: Market, open_orders: Iterable[SimOrder], at: datetime) -> Figures:
        """Buying power now (a margin account values its holdings at their marks)."""
        account = self.account
        prices = marks(market, account.holdings, at) if self.terms.is_margin else {}
        return figures(
            self.terms,
            account,
            prices=prices,
            open_orders=open_orders,
            start_of_day=self.start_of_day,
            entered_today=self.entered_today(at),
        )

    def entered_today(self, at: datetime) -> Dollars:
        if not (self.terms.legacy_pdt and self.terms.is_margin):
            return Dollars(ZERO)
        book = self.day_trades
        return entered(book.fills_on(trading_day(book.calendar, at)))


def account_book(
    scenario: Scenario,
    account: Account,
    calendar: SessionCalendar,
    fills: Sequence[Fill],
    start: datetime,
) -> AccountBook:
    """The account side of a venue starting at `start`: its previous close is the scenario's
    prices, and its carried day trades count as made in the session before."""
    trades = DayTradeBook(
        calendar, fills, scenario.account.daytrade_count, session_before(calendar, start)
    )
    start_of_day = opening(scenario.cash, scenario.positions, scenario.prices)
    return AccountBook(scenario.account, account, trades, start_of_day)
