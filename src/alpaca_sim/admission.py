"""Admission of a new order: every rule that needs the account, the book or the market.

An order is valued before it is placed (its "cost basis"): a limit order at its limit price, a
market order at the quote's far side (the ask for a buy, the bid for a sell) while the core
session is open, a notional order at its notional. Alpaca docs, "Placing Orders", initial
buying power checks: "When the core session is open: Far side of the NBBO (using Bid & Ask
Price)"; outside it the midpoint of the inside market (extended hours) or the latest trade (all
sessions closed), for which the simulator, having no trade tape, uses the last usable quote's
mid. Alpaca staff said the same of the cost basis (forum.alpaca.markets/t/13116: "the limit
price x qty (if a limit order) ... latest bid price x qty (if a sell order) or ... latest ask
price x qty (if a buy order)"). That value is checked against the $1 minimum and, for buys,
against buying power; a market buy then holds buying power at it. The market order's 2 %
collar (its price limit for matching) is not its buying power value.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_UP, Decimal

from alpaca_sim.account import held_for_sells
from alpaca_sim.account_book import AccountBook
from alpaca_sim.daytrades import check_pattern_day_trading, could_day_trade
from alpaca_sim.decimals import QTY_QUANTUM, ZERO, Price, Shares
from alpaca_sim.market import Market, Quote
from alpaca_sim.matching import collar_price
from alpaca_sim.orders import SimOrder
from alpaca_sim.refusals import RefusalWording
from alpaca_sim.rules import (
    OrderRequest,
    check_asset,
    check_buying_power,
    check_min_cost_basis,
    check_qty_available,
    check_unique_client_order_id,
    check_wash_trade,
)
from alpaca_sim.scenario import AssetSpec


@dataclass(frozen=True)
class Admission:
    request: OrderRequest
    asset: AssetSpec
    collar: Price | None
    sell_hold_qty: Shares
    valued_at: Price | None
    """The price a qty order was valued at (its limit, or the far side for a market order)."""


@dataclass(frozen=True)
class Book:
    """What admission reads: the account, open orders, ids in use, assets and the market."""

    account: AccountBook
    orders: Iterable[SimOrder]
    client_order_ids: Mapping[str, str]
    assets: Mapping[str, AssetSpec]
    market: Market
    collar_pct: Decimal
    wording: RefusalWording


def admit(
    book: Book, request: OrderRequest, at: datetime, *, replacing: SimOrder | None = None
) -> Admission:
    """Check `request` against Alpaca's rules; raises SimError with Alpaca's code if refused."""
    if request.client_order_id is not None:
        check_unique_client_order_id(request.client_order_id, book.client_order_ids, book.wording)
    asset = check_asset(request, book.assets.get(request.symbol))
    others = [o for o in book.orders if o.is_open and o is not replacing]
    check_wash_trade(request, others)
    reference = book.market.last_good_quote(request.symbol, at)
    collar = None
    if request.order_type == "market":
        collar = collar_price(request.side, reference, book.collar_pct)
    in_session = book.account.day_trades.calendar.is_open(at)
    valued_at = valuation_price(request, reference, in_session=in_session)
    cost = cost_basis(request, valued_at)
    check_min_cost_basis(cost)
    _check_day_trading(book.account, request, others, at)
    if request.side == "buy":
        power = book.account.figures(book.market, others, at).buying_power
        check_buying_power(cost, power)
        return Admission(request, asset, collar, Shares(ZERO), valued_at)
    wanted = _shares_to_sell(request, reference.bid)
    held, related = held_for_sells(others, request.symbol)
    existing = book.account.account.position_qty(request.symbol)
    check_qty_available(request.symbol, wanted, existing, held, related)
    return Admission(request, asset, collar, wanted, valued_at)


def valuation_price(request: OrderRequest, reference: Quote, *, in_session: bool) -> Price | None:
    """The per-share price a qty order is valued at (None for a notional order)."""
    if request.notional is not None:
        return None
    if request.limit_price is not None:
        return request.limit_price
    if not in_session:
        return reference.mid
    return reference.ask if request.side == "buy" else reference.bid


def cost_basis(request: OrderRequest, valued_at: Price | None) -> Decimal:
    if request.notional is not None:
        return request.notional
    assert valued_at is not None, "a qty order is valued"
    assert request.qty is not None, "an order has a qty or a notional"
    return valued_at * request.qty


def _check_day_trading(
    account: AccountBook, request: OrderRequest, others: Sequence[SimOrder], at: datetime
) -> None:
    terms = account.terms
    if not (terms.is_margin and terms.legacy_pdt):
        return
    book = account.day_trades
    check_pattern_day_trading(
        terms,
        account.start_of_day.equity,
        book.count(at),
        could_day_trade(request.side, request.symbol, book, others, at),
    )


def _shares_to_sell(request: OrderRequest, bid: Price) -> Shares:
    if request.qty is not None:
        return request.qty
    assert request.notional is not None
    # A notional sell reserves the shares it would need at the current bid, rounded up.
    return Shares((request.notional / bid).quantize(QTY_QUANTUM, rounding=ROUND_UP))
