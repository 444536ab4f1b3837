"""Reading Alpaca's JSON (as alpaca-py hands it over with `raw_data=True`) into Decimal, datetime
and our value types: account, clock, positions, assets, quotes.

Trading API money arrives as strings and parses straight to Decimal. Market-data prices are JSON
numbers, already floats by the time the SDK returns them: they go through `Decimal(str(x))`, the
shortest repr that reads back as the same float, which is the wire's own digits for any price
with a handful of decimals (never `Decimal(float)`, which would expose binary noise).
A missing or malformed field raises `MalformedResponseError`: nothing is guessed.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from plan_executor.domain.money import Dollars, Price, Shares
from plan_executor.domain.quotes import Quote
from plan_executor.ports import AccountSnapshot, AssetInfo, BrokerError, MarketClock, Position

Wire = Mapping[str, object]
ACTIVE_ACCOUNT = "ACTIVE"
ACTIVE_ASSET = "active"
_ACCOUNT_BLOCKS = ("account_blocked", "trading_blocked", "trade_suspended_by_user")


class MalformedResponseError(BrokerError):
    """The broker's answer lacks a field we need or carries one we cannot read."""


def wire_object(raw: object, what: str) -> Wire:
    if not isinstance(raw, Mapping):
        raise MalformedResponseError(f"{what}: expected a JSON object, got {type(raw).__name__}")
    return raw


def wire_str(raw: Wire, field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"{field}: expected a non-empty string, got {value!r}")
    return value


def wire_decimal(raw: Wire, field: str) -> Decimal:
    value = optional_decimal(raw, field)
    if value is None:
        raise MalformedResponseError(f"{field}: missing")
    return value


def optional_decimal(raw: Wire, field: str) -> Decimal | None:
    """A decimal from a numeric string or a JSON number; None when absent or null."""
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedResponseError(f"{field}: expected a number, got {value!r}")
    try:
        number = Decimal(value if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise MalformedResponseError(f"{field}: not a number: {value!r}") from None
    if not number.is_finite():
        raise MalformedResponseError(f"{field}: not a finite number: {value!r}")
    return number


def wire_time(raw: Wire, field: str) -> datetime:
    value = optional_time(raw, field)
    if value is None:
        raise MalformedResponseError(f"{field}: missing")
    return value


def optional_time(raw: Wire, field: str) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds are cut to microseconds); None when absent or null."""
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(f"{field}: expected a timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedResponseError(f"{field}: not a timestamp: {value!r}") from None
    if parsed.utcoffset() is None:
        raise MalformedResponseError(f"{field}: timestamp without offset: {value!r}")
    return parsed


def wire_bool(raw: Wire, field: str) -> bool:
    value = raw.get(field)
    if not isinstance(value, bool):
        raise MalformedResponseError(f"{field}: expected a boolean, got {value!r}")
    return value


def account_from_wire(raw: Wire) -> AccountSnapshot:
    return AccountSnapshot(
        equity=Dollars(wire_decimal(raw, "equity")),
        cash=Dollars(wire_decimal(raw, "cash")),
        buying_power=Dollars(wire_decimal(raw, "buying_power")),
        trading_blocked=_trading_blocked(raw),
    )


def _trading_blocked(raw: Wire) -> bool:
    """Blocked unless the account is ACTIVE and every block flag is explicitly false."""
    if raw.get("status") != ACTIVE_ACCOUNT:
        return True
    return any(raw.get(flag) is not False for flag in _ACCOUNT_BLOCKS)


def clock_from_wire(raw: Wire) -> MarketClock:
    return MarketClock(
        at=wire_time(raw, "timestamp"),
        is_open=wire_bool(raw, "is_open"),
        next_open=wire_time(raw, "next_open"),
        next_close=wire_time(raw, "next_close"),
    )


def position_from_wire(raw: Wire) -> Position:
    qty = wire_decimal(raw, "qty")
    available = optional_decimal(raw, "qty_available")
    return Position(
        symbol=wire_str(raw, "symbol"),
        qty=Shares(qty),
        # Older payloads lack qty_available; an oversized sell would be refused by the broker.
        qty_available=Shares(qty if available is None else available),
    )


def asset_from_wire(raw: Wire) -> AssetInfo:
    """Flags that are missing read as "no": an unknown asset is not traded."""
    return AssetInfo(
        symbol=wire_str(raw, "symbol"),
        tradable=raw.get("tradable") is True,
        fractionable=raw.get("fractionable") is True,
        active=raw.get("status") == ACTIVE_ASSET,
    )


def unknown_asset(symbol: str) -> AssetInfo:
    """What the broker's 404 for an asset means to the guard rails: not tradable."""
    return AssetInfo(symbol=symbol, tradable=False, fractionable=False, active=False)


def quote_from_wire(symbol: str, raw: Wire) -> Quote:
    """A latest-quote entry (`t, ap, as, bp, bs`). Zero or one-sided prices are kept as they
    are: deciding whether a quote is usable is the domain's `check_quote`.

    `as`/`bs` are read as shares, what Alpaca sends since 2025-11-03 (the SIPs' round-lot
    reform; Alpaca changelog 2025-10-30, "CTA/UTP bid and ask size display change"); before,
    they were round lots of 100. Sizes are only ever compared with zero (a side with nothing
    displayed is not priced from), which reads the same in either unit."""
    return Quote(
        symbol=symbol,
        bid=Price(wire_decimal(raw, "bp")),
        ask=Price(wire_decimal(raw, "ap")),
        bid_size=Shares(wire_decimal(raw, "bs")),
        ask_size=Shares(wire_decimal(raw, "as")),
        at=wire_time(raw, "t"),
    )
