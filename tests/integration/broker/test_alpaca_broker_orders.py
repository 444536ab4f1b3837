"""Orders through the real SDK: submit, look up, cancel, list (paged), rejections."""

import dataclasses
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from broker_helpers import (
    CountingLimiter,
    RecordedSleeps,
    api_requests,
    config_for,
    market,
    resting_buy,
    settle,
    sim_orders,
)

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Price, Shares
from plan_executor.ports import (
    BrokerError,
    OrderNotCancelable,
    OrderNotFound,
    OrderRejected,
    OrderRequest,
)


async def test_a_resting_limit_order_is_sent_exactly(broker: AlpacaBroker, sim: SimServer) -> None:
    request = dataclasses.replace(resting_buy("t-AAPL-b-1"), qty=Shares(Decimal("2.123456789")))

    order = await broker.submit(request)

    assert order.status is ChildOrderStatus.ACCEPTED  # answered before the venue routes it
    assert order.client_order_id == "t-AAPL-b-1"
    assert (order.side, order.order_type) == (Side.BUY, OrderType.LIMIT)
    assert order.qty == Decimal("2.123456789")
    assert order.limit_price == Decimal("1.00")
    [placed] = sim_orders(sim, "t-AAPL-b-1")
    assert (placed["qty"], placed["time_in_force"], placed["notional"]) == (
        "2.123456789",
        "day",
        None,
    )


async def test_a_market_order_fills_and_the_fill_reads_back(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    submitted = await broker.submit(market("t-MSFT-b-1", "MSFT", "3"))
    assert (submitted.status, submitted.filled_qty) == (ChildOrderStatus.ACCEPTED, 0)
    settle(sim)

    found = await broker.order_by_client_id("t-MSFT-b-1")

    assert found is not None
    assert found.broker_id == submitted.broker_id
    assert found.status is ChildOrderStatus.FILLED
    assert found.filled_qty == Decimal(3)
    assert found.filled_avg_price is not None
    assert found.filled_avg_price > 0


async def test_a_full_exit_sells_the_exact_holding(broker: AlpacaBroker, sim: SimServer) -> None:
    await broker.submit(market("t-SPY-s-1", "SPY", "7.2273576", Side.SELL))
    settle(sim)

    positions = await broker.positions()

    assert "SPY" not in positions


async def test_an_unknown_client_order_id_is_none(broker: AlpacaBroker) -> None:
    assert await broker.order_by_client_id("never-sent") is None


async def test_cancel_then_cancel_again(broker: AlpacaBroker, sim: SimServer) -> None:
    order = await broker.submit(resting_buy("t-AAPL-b-2"))

    await broker.cancel(order.broker_id)
    settle(sim)  # a cancel completes after the venue's delay
    canceled = await broker.order_by_client_id("t-AAPL-b-2")

    assert canceled is not None
    assert canceled.status is ChildOrderStatus.CANCELED
    with pytest.raises(OrderNotCancelable):
        await broker.cancel(order.broker_id)


async def test_cancel_of_a_filled_order_is_not_cancelable(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    order = await broker.submit(market("t-NVDA-b-1", "NVDA", "1"))
    settle(sim)

    with pytest.raises(OrderNotCancelable):
        await broker.cancel(order.broker_id)


async def test_cancel_of_an_unknown_order_is_not_found(broker: AlpacaBroker) -> None:
    with pytest.raises(OrderNotFound):
        await broker.cancel("6f1c1e8e-0000-4000-8000-000000000000")


async def test_selling_more_than_held_is_rejected_with_code_and_status(
    broker: AlpacaBroker,
) -> None:
    with pytest.raises(OrderRejected) as rejected:
        await broker.submit(market("t-MSFT-s-1", "MSFT", "13", Side.SELL))

    assert (rejected.value.status, rejected.value.code) == (403, 40310000)
    assert "insufficient qty" in str(rejected.value)


async def test_a_sub_penny_limit_is_rejected(broker: AlpacaBroker, sim: SimServer) -> None:
    request = OrderRequest(
        "t-AAPL-b-3", "AAPL", Side.BUY, OrderType.LIMIT, Shares(Decimal(1)), Price(Decimal("1.005"))
    )

    with pytest.raises(OrderRejected) as rejected:
        await broker.submit(request)

    assert (rejected.value.status, rejected.value.code) == (422, 42210000)
    assert len(api_requests(sim, "POST", "/v2/orders")) == 1  # a rejection is not retried


async def test_orders_since_lists_in_submission_order_with_filters(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    since = sim.venue.clock.now() - timedelta(minutes=1)
    for number, symbol in enumerate(["AAPL", "MSFT", "AAPL", "NVDA"], start=1):
        await broker.submit(resting_buy(f"t-{symbol}-b-{number}", symbol))
        sim.venue.clock.advance(1)
    filled = await broker.submit(market("t-AAPL-b-9", "AAPL", "1"))
    settle(sim)

    everything = await broker.orders_since(since)
    aapl_open = await broker.orders_since(since, symbols=["AAPL"], open_only=True)
    # `after` is exclusive: the NVDA order placed exactly at that instant is not listed.
    later = await broker.orders_since(sim.venue.clock.now() - timedelta(seconds=1))

    assert [o.client_order_id for o in everything] == [
        "t-AAPL-b-1", "t-MSFT-b-2", "t-AAPL-b-3", "t-NVDA-b-4", "t-AAPL-b-9"
    ]  # fmt: skip
    assert [o.client_order_id for o in aapl_open] == ["t-AAPL-b-1", "t-AAPL-b-3"]
    assert [o.client_order_id for o in later] == ["t-AAPL-b-9"]
    assert everything[-1].status is ChildOrderStatus.FILLED
    assert filled.status is ChildOrderStatus.ACCEPTED  # the submit's answer came first
    [request] = api_requests(sim, "GET", "/v2/orders")[:1]
    assert request["query"]["direction"] == "asc"  # type: ignore[index]
    assert request["query"]["limit"] == "500"  # type: ignore[index]


async def test_orders_since_pages_until_every_order_is_listed(
    sim: SimServer, limiter: CountingLimiter, sleeps: RecordedSleeps
) -> None:
    broker = AlpacaBroker(
        config_for(sim, orders_page_size=3), limiter=limiter, rng=random.Random(1), sleep=sleeps
    )
    since = sim.venue.clock.now() - timedelta(minutes=1)
    try:
        for number in range(1, 8):
            await broker.submit(resting_buy(f"t-AAPL-b-{number}"))
            if number % 3:  # pairs share an instant, across page boundaries too
                sim.venue.clock.advance(0.5)

        listed = await broker.orders_since(since)
    finally:
        await broker.aclose()

    assert [o.client_order_id for o in listed] == [f"t-AAPL-b-{n}" for n in range(1, 8)]
    assert len(api_requests(sim, "GET", "/v2/orders")) >= 4


async def test_orders_since_refuses_to_list_partially(
    sim: SimServer, limiter: CountingLimiter, sleeps: RecordedSleeps
) -> None:
    broker = AlpacaBroker(
        config_for(sim, orders_page_size=2), limiter=limiter, rng=random.Random(1), sleep=sleeps
    )
    try:
        for number in range(1, 4):  # three orders at one instant, pages of two
            await broker.submit(resting_buy(f"t-AAPL-b-{number}"))

        with pytest.raises(BrokerError, match="every order"):
            await broker.orders_since(sim.venue.clock.now() - timedelta(minutes=1))
    finally:
        await broker.aclose()


async def test_orders_since_needs_an_aware_instant(broker: AlpacaBroker, sim: SimServer) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await broker.orders_since(sim.venue.clock.now().replace(tzinfo=None))
