"""JSON shapes exactly as Alpaca sends them: money and quantities as strings, ISO timestamps."""

from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from decimal import Decimal
from functools import lru_cache

from alpaca_sim.account import Holding
from alpaca_sim.decimals import Dollars, Price, Shares, fmt, fmt_money, is_whole
from alpaca_sim.margin import Figures
from alpaca_sim.market import Quote
from alpaca_sim.orders import Fill, SimOrder
from alpaca_sim.scenario import AccountTerms, AssetSpec
from alpaca_sim.session import SessionCalendar

Json = dict[str, object]

_EXCHANGE_CODES = {
    "NASDAQ": "Q",
    "NYSE": "N",
    "ARCA": "P",
    "NYSEARCA": "P",
    "BATS": "Z",
    "AMEX": "A",
    "OTC": "U",
}
_TAPES = {"NYSE": "A", "NASDAQ": "C"}


def iso(at: datetime | None) -> str | None:
    return None if at is None else _utc_text(at)


@lru_cache(maxsize=4096)
def _utc_text(at: datetime) -> str:
    # Cached: an order's few timestamps are rendered again for every answer and trade update.
    # Equal datetimes are the same instant, and the text depends on the instant only.
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else fmt(value)


def order_wire(order: SimOrder) -> Json:
    filled = order.filled_qty
    average = order.filled_notional / filled if filled > 0 else None
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at or order.created_at),
        "submitted_at": iso(order.created_at),
        "filled_at": iso(order.filled_at),
        "expired_at": iso(order.expired_at),
        "expires_at": iso(order.expires_at),
        "canceled_at": iso(order.canceled_at),
        "failed_at": iso(order.failed_at),
        "replaced_at": iso(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": _opt(order.notional),
        "qty": _opt(order.qty),
        "filled_qty": fmt(filled),
        "filled_avg_price": None if average is None else fmt(round(average, 10)),
        "order_class": "simple",
        "order_type": order.order_type,
        "type": order.order_type,
        "side": order.side,
        "position_intent": "buy_to_open" if order.side == "buy" else "sell_to_close",
        "time_in_force": order.time_in_force,
        "limit_price": _opt(order.limit_price),
        "stop_price": None,
        "status": str(order.status),
        "extended_hours": order.extended_hours,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


def trade_update(event: str, order: SimOrder, at: datetime, fill: Fill | None) -> Json:
    """The `data` of a trade_updates message; fills carry the execution's price and qty."""
    update: Json = {
        "event": event,
        "execution_id": None if fill is None else fill.execution_id,
        "order": order_wire(order),
        "timestamp": iso(at),
    }
    if fill is not None:
        update["price"] = fmt(fill.price)
        update["qty"] = fmt(fill.qty)
        update["position_qty"] = fmt(fill.position_qty)
    return update


def without_prices(update: Json) -> Json:
    """A fill update as a broker sends it before pricing it: no `price`, no average price."""
    order = update["order"]
    assert isinstance(order, dict)
    stripped = {key: value for key, value in update.items() if key != "price"}
    stripped["order"] = {**order, "filled_avg_price": None}
    return stripped


def fill_wire(fill: Fill) -> Json:
    return {
        "execution_id": fill.execution_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side,
        "price": fmt(fill.price),
        "qty": fmt(fill.qty),
        "timestamp": iso(fill.at),
        "position_qty": fmt(fill.position_qty),
    }


def position_wire(
    asset: AssetSpec, holding: Holding, current: Price, lastday: Price, available: Shares
) -> Json:
    market_value = holding.qty * current
    unrealized = market_value - holding.cost_basis
    intraday = holding.qty * (current - lastday)
    lastday_value = holding.qty * lastday
    return {
        "asset_id": asset.asset_id,
        "symbol": asset.symbol,
        "exchange": asset.exchange,
        "asset_class": "us_equity",
        "asset_marginable": asset.marginable,
        "qty": fmt(holding.qty),
        "qty_available": fmt(available),
        "avg_entry_price": fmt(round(holding.avg_entry_price, 10)),
        "side": "long",
        "market_value": fmt_money(market_value),
        "cost_basis": fmt_money(holding.cost_basis),
        "unrealized_pl": fmt_money(unrealized),
        "unrealized_plpc": _ratio(unrealized, holding.cost_basis),
        "unrealized_intraday_pl": fmt_money(intraday),
        "unrealized_intraday_plpc": _ratio(intraday, lastday_value),
        "current_price": fmt(current),
        "lastday_price": fmt(lastday),
        "change_today": _ratio(current - lastday, lastday),
    }


def _ratio(part: Decimal, whole: Decimal) -> str:
    return fmt(round(part / whole, 10)) if whole else "0"


@dataclass(frozen=True)
class LegacyDayTrading:
    """Fields GET /v2/account carried until Alpaca removed them on 2026-07-06 (changelog,
    "Pattern day trading fields and configurations removed")."""

    daytrade_count: int
    pattern_day_trader: bool
    bod_dtbp: Dollars
    daytrading_buying_power: Dollars


def account_wire(
    *,
    account_id: str,
    account_number: str,
    created_at: datetime,
    cash: Dollars,
    long_market_value: Dollars,
    last_equity: Dollars,
    last_maintenance_margin: Dollars,
    as_of: datetime,
    terms: AccountTerms,
    power: Figures,
    legacy: LegacyDayTrading | None,
) -> Json:
    """GET /v2/account. A margin account's figures follow the account recorded in alpaca-py's
    tests (tests/trading/trading_client/test_account_routes.py): a multiplier, Reg T and day
    trading buying power, initial and maintenance margin, shorting enabled."""
    equity = cash + long_market_value
    money = fmt_money
    wire: Json = {
        "id": account_id,
        "account_number": account_number,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "buying_power": money(power.buying_power),
        "regt_buying_power": money(power.regt),
        "daytrading_buying_power": money(power.daytrading),
        "effective_buying_power": money(power.buying_power),
        "non_marginable_buying_power": money(power.non_marginable),
        "options_buying_power": money(power.non_marginable),
        "bod_dtbp": "0",
        "cash": money(cash),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": money(equity),
        "equity": money(equity),
        "last_equity": money(last_equity),
        "long_market_value": money(long_market_value),
        "short_market_value": "0",
        "position_market_value": money(long_market_value),
        "initial_margin": money(power.initial_margin),
        "maintenance_margin": money(power.maintenance_margin),
        "last_maintenance_margin": money(last_maintenance_margin),
        "sma": "0",
        "multiplier": str(terms.multiplier),
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": terms.shorting_enabled,
        "daytrade_count": 0,
        "options_approved_level": 0,
        "options_trading_level": 0,
        "created_at": iso(created_at),
        "balance_asof": as_of.date().isoformat(),
    }
    if legacy is None:
        # The changelog's Trading API list: "daytrade_count, daytrading_buying_power, and
        # pattern_day_trader removed from the account schema".
        for removed in ("daytrade_count", "daytrading_buying_power", "pattern_day_trader"):
            del wire[removed]
        return wire
    wire["daytrade_count"] = legacy.daytrade_count
    wire["pattern_day_trader"] = legacy.pattern_day_trader
    wire["bod_dtbp"] = money(legacy.bod_dtbp)
    wire["daytrading_buying_power"] = money(legacy.daytrading_buying_power)
    return wire


def asset_wire(asset: AssetSpec) -> Json:
    return {
        "id": asset.asset_id,
        "class": "us_equity",
        "exchange": asset.exchange,
        "symbol": asset.symbol,
        "name": asset.name,
        "status": asset.status,
        "tradable": asset.tradable,
        "marginable": asset.marginable,
        "shortable": asset.shortable,
        "easy_to_borrow": asset.easy_to_borrow,
        "fractionable": asset.fractionable,
        "maintenance_margin_requirement": 30,
        "min_order_size": "0.000000001" if asset.fractionable else "1",
        "min_trade_increment": "0.000000001" if asset.fractionable else "1",
        "price_increment": "0.01",
        "attributes": ["fractional_eh_enabled"] if asset.fractionable else [],
    }


def quote_wire(quote: Quote, exchange: str, feed: str, lot: int = 1) -> Json:
    """A latest quote; sizes in shares, or in whole round lots of `lot` shares (an odd lot
    left over is not shown) when the scenario predates sizes in shares (scenario.py)."""
    venue_code = "V" if feed == "iex" else _EXCHANGE_CODES.get(exchange, "Q")
    return {
        "t": iso(quote.timestamp),
        "ax": venue_code,
        "ap": float(quote.ask),
        "as": _size(quote.ask_size, lot),
        "bx": venue_code,
        "bp": float(quote.bid),
        "bs": _size(quote.bid_size, lot),
        "c": ["R"],
        "z": _TAPES.get(exchange, "B"),
    }


def _size(size: Decimal, lot: int) -> int | float:
    if lot > 1:
        return int(size // lot)
    return int(size) if is_whole(size) else float(size)


def clock_wire(now: datetime, calendar: SessionCalendar) -> Json:
    zone = timezone(calendar.display_offset)

    def local(at: datetime) -> str:
        return at.astimezone(zone).isoformat(timespec="microseconds")

    return {
        "timestamp": local(now),
        "is_open": calendar.is_open(now),
        "next_open": local(calendar.next_open(now)),
        "next_close": local(calendar.close_for(now)),
    }
