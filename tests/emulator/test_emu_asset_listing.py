"""GET /v2/assets through the real alpaca-py 0.44 TradingClient.get_all_assets: an array of the
same Asset objects GET /v2/assets/{symbol} answers, filtered by the documented query parameters
and sorted by asset class, exchange and symbol (https://docs.alpaca.markets/reference/assets)."""

from __future__ import annotations

import asyncio

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, AssetExchange, AssetStatus
from alpaca.trading.models import Asset
from alpaca.trading.requests import GetAssetsRequest

from alpaca_sim.scenario import default_scenario

INACTIVE, NOT_TRADABLE, WHOLE_SHARES = "DFNCT", "LOCKD", "BRK.B"


async def _listed(trading: TradingClient, request: GetAssetsRequest | None = None) -> list[Asset]:
    assets = await asyncio.to_thread(trading.get_all_assets, request)
    assert isinstance(assets, list)
    return [asset for asset in assets if isinstance(asset, Asset)]


async def test_active_us_equities_are_the_single_asset_objects_sorted(
    trading: TradingClient,
) -> None:
    request = GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)

    listed = await _listed(trading, request)

    expected = {s for s, a in default_scenario().assets.items() if a.status == "active"}
    assert {asset.symbol for asset in listed} == expected
    assert INACTIVE not in expected
    assert NOT_TRADABLE in expected
    keys = [(str(asset.exchange), asset.symbol) for asset in listed]
    assert keys == sorted(keys)
    for asset in listed:
        assert asset == await asyncio.to_thread(trading.get_asset, asset.symbol)


async def test_without_a_status_every_status_is_listed(trading: TradingClient) -> None:
    listed = {asset.symbol: asset for asset in await _listed(trading)}

    assert listed[INACTIVE].status == AssetStatus.INACTIVE
    assert listed[NOT_TRADABLE].tradable is False


async def test_exchange_class_and_attribute_filters(trading: TradingClient) -> None:
    nyse = await _listed(trading, GetAssetsRequest(exchange=AssetExchange.NYSE))
    crypto = await _listed(trading, GetAssetsRequest(asset_class=AssetClass.CRYPTO))
    fractional = await _listed(trading, GetAssetsRequest(attributes="fractional_eh_enabled,ipo"))

    assert nyse
    assert all(asset.exchange == AssetExchange.NYSE for asset in nyse)
    assert crypto == []
    assert fractional
    assert all(asset.fractionable for asset in fractional)
    assert WHOLE_SHARES not in {asset.symbol for asset in fractional}
