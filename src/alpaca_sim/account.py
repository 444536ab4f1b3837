"""The account's cash, its long positions and the holds open orders place on them."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alpaca_sim.decimals import ZERO, Dollars, Price, Shares, cents_up, to_cents
from alpaca_sim.orders import SimOrder
from alpaca_sim.scenario import PositionSpec


@dataclass
class Holding:
    qty: Shares
    cost_basis: Dollars

    @property
    def avg_entry_price(self) -> Price:
        return Price(self.cost_basis / self.qty)


class OversoldError(Exception):
    """A sell executed more shares than held: a simulator bug, never a client error."""


class Account:
    def __init__(self, cash: Dollars, positions: Mapping[str, PositionSpec]) -> None:
        self.cash = cash
        self.holdings: dict[str, Holding] = {
            symbol: Holding(spec.qty, Dollars(spec.qty * spec.avg_entry_price))
            for symbol, spec in sorted(positions.items())
        }

    def position_qty(self, symbol: str) -> Shares:
        holding = self.holdings.get(symbol)
        return holding.qty if holding is not None else Shares(ZERO)

    def apply_fill(self, symbol: str, side: str, qty: Shares, price: Price) -> Shares:
        """Book one execution; returns the signed position quantity after it."""
        value = price * qty
        holding = self.holdings.get(symbol)
        if side == "buy":
            self.cash = Dollars(self.cash - to_cents(value))
            if holding is None:
                self.holdings[symbol] = Holding(qty, Dollars(value))
            else:
                holding.qty = Shares(holding.qty + qty)
                holding.cost_basis = Dollars(holding.cost_basis + value)
            return self.position_qty(symbol)
        if holding is None or qty > holding.qty:
            raise OversoldError(f"sell of {qty} {symbol} exceeds the position")
        self.cash = Dollars(self.cash + to_cents(value))
        remaining = Shares(holding.qty - qty)
        if remaining == 0:
            del self.holdings[symbol]
        else:
            holding.cost_basis = Dollars(holding.avg_entry_price * remaining)
            holding.qty = remaining
        return self.position_qty(symbol)

    def long_market_value(self, prices: Mapping[str, Price]) -> Dollars:
        return Dollars(sum((h.qty * prices[s] for s, h in self.holdings.items()), ZERO))


def buy_hold(order: SimOrder) -> Dollars:
    """Buying power an open buy keeps reserved (rounded up to the cent): its remaining notional,
    or its remaining shares at the price it was valued at when admitted (its limit, or for a
    market order the quote's far side; see admission.valuation_price)."""
    if order.side != "buy" or not order.is_open:
        return Dollars(ZERO)
    if order.is_notional:
        return cents_up(order.remaining_notional)
    price = order.limit_price if order.limit_price is not None else order.valued_at
    assert price is not None, "qty orders are valued when admitted"
    return cents_up(price * order.remaining_qty)


def sell_hold(order: SimOrder) -> Shares:
    """Shares an open sell keeps reserved."""
    if order.side != "sell" or not order.is_open:
        return Shares(ZERO)
    if order.is_notional:
        return Shares(max(ZERO, order.sell_hold_qty - order.filled_qty))
    return order.remaining_qty


def held_for_sells(orders: Iterable[SimOrder], symbol: str) -> tuple[Shares, list[str]]:
    """Shares of `symbol` reserved by open sells, and those orders' ids."""
    held = ZERO
    related: list[str] = []
    for order in orders:
        if order.symbol == symbol and order.side == "sell" and order.is_open:
            held += sell_hold(order)
            related.append(order.id)
    return Shares(held), related
