"""Every trading endpoint through the real alpaca-py 0.44 TradingClient."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    AssetStatus,
    OrderSide,
    OrderStatus,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)

from alpaca_sim.server import SimServer

Settle = Callable[[], Awaitable[object]]


def resting_buy(symbol: str = "AAPL", qty: float = 1, client_order_id: str | None = None):
    """A DAY limit buy far below the market: accepted, then rests."""
    return LimitOrderRequest(
        symbol=symbol,
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=1.00,
        client_order_id=client_order_id,
    )


async def test_account_parses_with_money_as_strings(trading: TradingClient, sim: SimServer):
    account = await asyncio.to_thread(trading.get_account)
    raw = sim.venue.account()

    assert str(account.id) == raw["id"]
    assert account.status == "ACTIVE"
    assert Decimal(account.cash) == Decimal(str(raw["cash"]))
    assert Decimal(account.buying_power) > 0
    assert isinstance(raw["buying_power"], str)


async def test_positions_list_one_and_close(trading: TradingClient):
    positions = await asyncio.to_thread(trading.get_all_positions)
    by_symbol = {p.symbol: p for p in positions}
    assert "AAPL" in by_symbol

    aapl = await asyncio.to_thread(trading.get_open_position, "AAPL")
    assert aapl.qty == by_symbol["AAPL"].qty
    assert Decimal(aapl.qty_available) == Decimal(aapl.qty)

    closing = await asyncio.to_thread(
        trading.close_position, "AAPL", ClosePositionRequest(percentage="50")
    )
    assert closing.side == OrderSide.SELL
    assert Decimal(closing.qty) == Decimal(aapl.qty) / 2


async def test_submit_get_by_id_and_by_client_id_agree(trading: TradingClient):
    submitted = await asyncio.to_thread(trading.submit_order, resting_buy(client_order_id="rest-1"))
    assert isinstance(submitted, Order)
    assert submitted.status in {OrderStatus.ACCEPTED, OrderStatus.PENDING_NEW}  # not yet routed
    assert submitted.client_order_id == "rest-1"

    by_id = await asyncio.to_thread(trading.get_order_by_id, submitted.id)
    by_client = await asyncio.to_thread(trading.get_order_by_client_id, "rest-1")
    nested = await asyncio.to_thread(
        trading.get_order_by_id, submitted.id, GetOrderByIdRequest(nested=True)
    )

    assert by_id.id == by_client.id == nested.id == submitted.id
    assert Decimal(by_id.limit_price) == 1


async def test_market_buy_fills_at_the_touch(
    trading: TradingClient, sim: SimServer, settle: Settle
):
    ask = Decimal(str(sim.venue.latest_quotes(["MSFT"])["quotes"]["MSFT"]["ap"]))
    order = await asyncio.to_thread(
        trading.submit_order,
        MarketOrderRequest(symbol="MSFT", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
    )
    await settle()
    filled = await asyncio.to_thread(trading.get_order_by_id, order.id)

    assert filled.status == OrderStatus.FILLED
    assert Decimal(filled.filled_qty) == 1
    assert Decimal(filled.filled_avg_price) == ask


async def test_list_orders_with_every_filter(trading: TradingClient):
    first = await asyncio.to_thread(trading.submit_order, resting_buy("AAPL"))
    second = await asyncio.to_thread(trading.submit_order, resting_buy("MSFT"))
    await asyncio.to_thread(trading.submit_order, resting_buy("NVDA"))
    before = datetime(2000, 1, 1, tzinfo=UTC)

    listed = await asyncio.to_thread(
        trading.get_orders,
        GetOrdersRequest(
            status=QueryOrderStatus.ALL,
            limit=500,
            after=before,
            until=datetime.now(UTC) + timedelta(days=3650),
            direction="asc",
            nested=True,
            side=OrderSide.BUY,
            symbols=["AAPL", "MSFT"],
        ),
    )
    assert [o.id for o in listed] == [first.id, second.id]

    newest_first = await asyncio.to_thread(trading.get_orders, GetOrdersRequest(limit=2))
    assert len(newest_first) == 2
    assert newest_first[-1].id == second.id


async def test_replace_returns_a_new_order_that_replaces_the_old(
    trading: TradingClient, settle: Settle
):
    old = await asyncio.to_thread(trading.submit_order, resting_buy(qty=2))
    await settle()  # routed: an order is not replaceable before

    new = await asyncio.to_thread(
        trading.replace_order_by_id, old.id, ReplaceOrderRequest(qty=3, limit_price=1.5)
    )
    old_after = await asyncio.to_thread(trading.get_order_by_id, old.id)

    assert new.id != old.id
    assert new.replaces == old.id
    assert Decimal(new.qty) == 3
    assert Decimal(new.limit_price) == Decimal("1.5")
    assert old_after.status == OrderStatus.REPLACED
    assert old_after.replaced_by == new.id


async def test_cancel_one_returns_none_and_the_order_ends_canceled(
    trading: TradingClient, settle: Settle
):
    order = await asyncio.to_thread(trading.submit_order, resting_buy())

    assert await asyncio.to_thread(trading.cancel_order_by_id, order.id) is None
    await settle()

    after = await asyncio.to_thread(trading.get_order_by_id, order.id)
    assert after.status == OrderStatus.CANCELED


async def test_cancel_all_reports_each_order(trading: TradingClient, settle: Settle):
    orders = [
        await asyncio.to_thread(trading.submit_order, resting_buy(s)) for s in ("AAPL", "XOM")
    ]

    responses = await asyncio.to_thread(trading.cancel_orders)

    assert {r.id for r in responses} == {o.id for o in orders}
    assert all(r.status == 200 for r in responses)
    await settle()
    open_now = await asyncio.to_thread(trading.get_orders)
    assert open_now == []


async def test_clock_and_assets(trading: TradingClient):
    clock = await asyncio.to_thread(trading.get_clock)
    assert clock.is_open
    assert clock.next_close > clock.timestamp

    aapl = await asyncio.to_thread(trading.get_asset, "AAPL")
    brk = await asyncio.to_thread(trading.get_asset, "BRK.B")
    assert aapl.fractionable
    assert aapl.tradable
    assert aapl.status == AssetStatus.ACTIVE
    assert not brk.fractionable


async def test_order_ids_are_uuids(trading: TradingClient):
    order = await asyncio.to_thread(trading.submit_order, resting_buy())
    assert isinstance(order.id, uuid.UUID)
