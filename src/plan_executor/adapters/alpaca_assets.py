"""The guard rails' asset read: ONE listing of Alpaca's active US equities, whatever the plan's
size (docs/design.md 2.4).

GET /v2/assets?status=active&asset_class=us_equity answers an array of the same Asset objects
GET /v2/assets/{symbol} answers (https://docs.alpaca.markets/reference/assets), about 12,000 of
them at Alpaca. Only the entries of the symbols asked for are read; a symbol the listing lacks
(unknown, or not active) reads as neither tradable nor active, so the rail refuses it.
"""

from collections.abc import Mapping, Sequence

from alpaca.trading.enums import AssetClass, AssetStatus
from alpaca.trading.requests import GetAssetsRequest

from plan_executor.adapters.alpaca_wire import (
    MalformedResponseError,
    asset_from_wire,
    unknown_asset,
)
from plan_executor.ports import AssetInfo

ACTIVE_US_EQUITIES = GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)


def assets_from_listing(raw: object, symbols: Sequence[str]) -> dict[str, AssetInfo]:
    """Every symbol asked for, as the listing shows it."""
    if not isinstance(raw, list):
        raise MalformedResponseError(f"assets: expected a JSON array, got {type(raw).__name__}")
    wanted = frozenset(symbols)
    found: dict[str, AssetInfo] = {}
    for entry in raw:
        symbol = entry.get("symbol") if isinstance(entry, Mapping) else None
        if isinstance(symbol, str) and symbol in wanted:
            found[symbol] = _stricter(found.get(symbol), asset_from_wire(entry))
    return {symbol: found.get(symbol) or unknown_asset(symbol) for symbol in symbols}


def _stricter(earlier: AssetInfo | None, later: AssetInfo) -> AssetInfo:
    """A symbol listed twice is only as tradable as its most restrictive entry (fail closed)."""
    if earlier is None:
        return later
    return AssetInfo(
        symbol=later.symbol,
        tradable=earlier.tradable and later.tradable,
        fractionable=earlier.fractionable and later.fractionable,
        active=earlier.active and later.active,
    )
