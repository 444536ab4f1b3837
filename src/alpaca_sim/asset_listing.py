"""GET /v2/assets: the scenario's assets as Alpaca lists them.

Source: Alpaca's Trading API reference, Assets (https://docs.alpaca.markets/reference/assets and
https://alpaca.markets/docs/api-references/trading-api/assets/): the answer is a JSON array of
Asset objects, the same object GET /v2/assets/{symbol} answers, sorted by asset class,
exchange and symbol. Query parameters, all optional:
  status       "active" or "inactive"; absent: every status.
  asset_class  defaults to us_equity (the only class the sim has: any other lists nothing).
  exchange     AMEX, ARCA, BATS, NYSE, NASDAQ, NYSEARCA or OTC.
  attributes   comma-separated; an asset having ANY of them is listed.
alpaca-py 0.44's `TradingClient.get_all_assets(GetAssetsRequest(...))` sends these names, and
its own route test (alpaca-py tests/trading/trading_client/test_asset_routes.py) records such an
array. Values outside the documented ones are matched as given (they list nothing): what
Alpaca answers to them is not documented.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from alpaca_sim.scenario import AssetSpec
from alpaca_sim.wire import Json, asset_wire

SIM_ASSET_CLASS = "us_equity"


@dataclass(frozen=True, slots=True)
class AssetQuery:
    status: str | None = None
    asset_class: str | None = None
    exchange: str | None = None
    attributes: frozenset[str] = frozenset()


def list_assets(assets: Iterable[AssetSpec], query: AssetQuery) -> list[Json]:
    if (query.asset_class or SIM_ASSET_CLASS) != SIM_ASSET_CLASS:
        return []
    listed = [asset_wire(asset) for asset in assets if _selected(asset, query)]
    listed = [wire for wire in listed if _has_any_attribute(wire, query.attributes)]
    return sorted(listed, key=lambda wire: (str(wire["exchange"]), str(wire["symbol"])))


def _selected(asset: AssetSpec, query: AssetQuery) -> bool:
    if query.status is not None and asset.status != query.status:
        return False
    return query.exchange is None or asset.exchange == query.exchange


def _has_any_attribute(wire: Json, wanted: frozenset[str]) -> bool:
    if not wanted:
        return True
    attributes = wire.get("attributes")
    return isinstance(attributes, list) and not wanted.isdisjoint(attributes)
