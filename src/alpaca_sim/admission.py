"""Admission of a new order: every rule that needs the account, the book or the market."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_UP, Decimal

from alpaca_sim.account import Account, buying_power, held_for_sells
from alpaca_sim.decimals import QTY_QUANTUM, ZERO, Price, Shares
from alpaca_sim.market import Market
from alpaca_sim.matching import collar_price
from alpaca_sim.orders import SimOrder
from alpaca_sim.refusals import RefusalWording
from alpaca_sim.rules import (
    OrderRequest,
    check_asset,
    check_buying_power,
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


@dataclass(frozen=True)
class Book:
    """What admission reads: the account, open orders, ids in use, assets and the market."""

    account: Account
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
    check_wash_trade(request.side, request.symbol, others)
    reference = book.market.last_good_quote(request.symbol, at)
    collar = None
    if request.order_type == "market":
        collar = collar_price(request.side, reference, book.collar_pct)
    if request.side == "buy":
        check_buying_power(_cost(request, collar), buying_power(book.account.cash, others))
        return Admission(request, asset, collar, Shares(ZERO))
    wanted = _shares_to_sell(request, reference.bid)
    held, related = held_for_sells(others, request.symbol)
    existing = book.account.position_qty(request.symbol)
    check_qty_available(request.symbol, wanted, existing, held, related)
    return Admission(request, asset, collar, wanted)


def _cost(request: OrderRequest, collar: Price | None) -> Decimal:
    if request.notional is not None:
        return request.notional
    limit = request.limit_price if request.limit_price is not None else collar
    assert limit is not None
    assert request.qty is not None
    return limit * request.qty


def _shares_to_sell(request: OrderRequest, bid: Price) -> Shares:
    if request.qty is not None:
        return request.qty
    assert request.notional is not None
    # A notional sell reserves the shares it would need at the current bid, rounded up.
    return Shares((request.notional / bid).quantize(QTY_QUANTUM, rounding=ROUND_UP))
