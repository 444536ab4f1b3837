"""Every rejection of the sim contract, as alpaca-py's APIError sees it (status, code, body)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)

from alpaca_sim.server import SimServer


async def api_error(call: Callable[..., Any], *args: Any) -> APIError:
    with pytest.raises(APIError) as caught:
        await asyncio.to_thread(call, *args)
    return caught.value


def limit(symbol: str, side: OrderSide, qty: float, price: float, **kw: Any) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol,
        qty=qty,
        side=side,
        time_in_force=kw.pop("time_in_force", TimeInForce.DAY),
        limit_price=price,
        **kw,
    )


def market(symbol: str, side: OrderSide, **kw: Any) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, side=side, time_in_force=kw.pop("time_in_force", TimeInForce.DAY), **kw
    )


async def test_duplicate_client_order_id_is_refused_even_after_cancel(trading: TradingClient):
    first = await asyncio.to_thread(
        trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 1.0, client_order_id="dup")
    )
    await asyncio.to_thread(trading.cancel_order_by_id, first.id)

    error = await api_error(
        trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 1.0, client_order_id="dup")
    )

    assert (error.status_code, error.code) == (422, 40010001)
    assert error.message == "client_order_id must be unique"


async def test_client_order_id_longer_than_128_chars(trading: TradingClient):
    error = await api_error(
        trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 1.0, client_order_id="x" * 129)
    )
    assert (error.status_code, error.code) == (422, 40010001)


async def test_zero_qty_is_refused(trading: TradingClient):
    error = await api_error(trading.submit_order, market("AAPL", OrderSide.BUY, qty=0))
    assert (error.status_code, error.code) == (422, 40010001)


async def test_insufficient_buying_power_carries_the_amounts(trading: TradingClient):
    error = await api_error(trading.submit_order, limit("AAPL", OrderSide.BUY, 100000, 100.0))

    body = json.loads(str(error))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "insufficient buying power"
    assert {"buying_power", "cost_basis"} <= body.keys()


async def test_insufficient_qty_carries_available_and_held(trading: TradingClient):
    held = await asyncio.to_thread(trading.get_open_position, "AAPL")

    error = await api_error(
        trading.submit_order, limit("AAPL", OrderSide.SELL, float(held.qty) + 1, 9999.0)
    )

    body = json.loads(str(error))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message.startswith("insufficient qty available for order")
    assert body["symbol"] == "AAPL"
    assert {"available", "existing_qty", "held_for_orders", "related_orders"} <= body.keys()


async def test_wash_trade_is_refused(trading: TradingClient):
    await asyncio.to_thread(trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 1.0))

    error = await api_error(trading.submit_order, market("AAPL", OrderSide.SELL, qty=1))

    assert (error.status_code, error.code) == (403, 40310000)
    assert "wash trade" in error.message


async def test_fractional_order_on_non_fractionable_asset(trading: TradingClient):
    error = await api_error(trading.submit_order, market("BRK.B", OrderSide.BUY, qty=0.5))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == 'asset "BRK.B" is not fractionable'


async def test_fractional_order_must_be_day(trading: TradingClient):
    error = await api_error(
        trading.submit_order, market("AAPL", OrderSide.BUY, qty=0.5, time_in_force=TimeInForce.GTC)
    )
    assert (error.status_code, error.code) == (422, 42210000)
    assert error.message == "fractional orders must be DAY orders"


async def test_notional_below_one_dollar(trading: TradingClient):
    error = await api_error(trading.submit_order, market("AAPL", OrderSide.BUY, notional=0.5))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "cost basis must be >= minimal amount of order 1"


async def test_unknown_symbol(trading: TradingClient):
    error = await api_error(trading.submit_order, market("NOPE", OrderSide.BUY, qty=1))
    assert (error.status_code, error.code) == (422, 42210000)


async def test_sub_penny_limit_price(trading: TradingClient):
    error = await api_error(trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 1.123))
    assert (error.status_code, error.code) == (422, 42210000)
    assert "sub-penny increment" in error.message


@pytest.mark.parametrize(
    ("symbol", "message"),
    [("DFNCT", 'asset "DFNCT" is not active'), ("LOCKD", 'asset "LOCKD" is not tradable')],
)
async def test_inactive_and_untradable_assets(trading: TradingClient, symbol: str, message: str):
    error = await api_error(trading.submit_order, market(symbol, OrderSide.BUY, qty=1))
    assert (error.status_code, error.code) == (422, 42210000)
    assert error.message == message


async def test_cancel_of_a_filled_order_is_not_cancelable(trading: TradingClient):
    order = await asyncio.to_thread(trading.submit_order, market("MSFT", OrderSide.BUY, qty=1))

    error = await api_error(trading.cancel_order_by_id, order.id)

    assert (error.status_code, error.code) == (422, 42210000)
    assert error.message == 'order is already in "filled" state'


async def test_unknown_order_ids_are_not_found(trading: TradingClient):
    unknown = uuid.UUID(int=12345)
    for call, arg in (
        (trading.get_order_by_id, unknown),
        (trading.cancel_order_by_id, unknown),
        (trading.get_order_by_client_id, "never-sent"),
    ):
        error = await api_error(call, arg)
        assert (error.status_code, error.code) == (404, 40410000)


async def test_unknown_position_and_asset_are_not_found(trading: TradingClient):
    for call, arg in ((trading.get_open_position, "XOM2"), (trading.get_asset, "NOPE")):
        error = await api_error(call, arg)
        assert (error.status_code, error.code) == (404, 40410000)


async def test_replace_refused_for_notional_orders(trading: TradingClient, sim: SimServer):
    sim.faults.halt("AAPL")  # keep the notional order open
    order = await asyncio.to_thread(
        trading.submit_order, market("AAPL", OrderSide.BUY, notional=50)
    )

    error = await api_error(trading.replace_order_by_id, order.id, ReplaceOrderRequest(qty=1))

    assert (error.status_code, error.code) == (422, 42210000)
    assert error.message == "notional orders cannot be replaced"


async def test_replace_refused_while_pending_new(trading: TradingClient, sim: SimServer):
    sim.faults.delay_acks(ack_ms=60_000)
    order = await asyncio.to_thread(trading.submit_order, limit("AAPL", OrderSide.BUY, 1, 1.0))

    error = await api_error(
        trading.replace_order_by_id, order.id, ReplaceOrderRequest(limit_price=1.1)
    )

    assert (error.status_code, error.code) == (422, 42210000)


async def test_non_uuid_order_id_is_422_before_lookup(http: aiohttp.ClientSession):
    for method in ("GET", "PATCH", "DELETE"):
        async with http.request(method, "/v2/orders/not-a-uuid", json={}) as response:
            assert response.status == 422
            assert await response.json() == {"code": 40010001, "message": "order_id is missing"}


async def test_wrong_credentials_get_401_without_code(sim: SimServer):
    client = TradingClient("wrong", "creds", paper=True, url_override=sim.trading_url)

    error = await api_error(client.get_account)

    assert error.status_code == 401
    assert json.loads(str(error)) == {"message": "unauthorized"}
    with pytest.raises(KeyError):
        _ = error.code  # alpaca-py indexes ["code"]; Alpaca sends none on auth failures
