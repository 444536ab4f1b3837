"""Each recorded wording of a duplicate client_order_id and of a cancel past cancelling, as the
real alpaca-py SDK sees it over HTTP (readings and sources: alpaca_sim.refusals)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from tests.support.sim_clock import settle_server, step_server

from alpaca_sim.refusals import RefusalWording
from alpaca_sim.scenario import default_scenario
from alpaca_sim.server import SimServer

MAX_STEPS = 30
"""Hang guard: market steps to wait for the rest of a partial fill (each takes 10-90 %)."""


@asynccontextmanager
async def sim_with(**wording: str) -> AsyncIterator[tuple[SimServer, TradingClient]]:
    scenario = dataclasses.replace(default_scenario(), refusals=RefusalWording(**wording))
    async with SimServer(scenario=scenario, seed=7) as server:
        client = TradingClient(
            server.api_key, server.api_secret, paper=True, url_override=server.trading_url
        )
        client._retry = 0
        yield server, client


def resting(client_order_id: str) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=1,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=1.0,
        client_order_id=client_order_id,
    )


async def filled_order_id(sim: SimServer, trading: TradingClient) -> str:
    """A market order, once its fill has been published: the manual clock is moved past the
    venue's delays, then a market step at a time while a paper partial fill leaves the rest
    working (at most MAX_STEPS, a hang guard)."""
    filled: set[str] = set()

    def on_update(update: Mapping[str, Any]) -> None:
        if update["event"] == "fill":
            filled.add(update["order"]["id"])

    unsubscribe = sim.venue.subscribe(on_update)
    try:
        order = await asyncio.to_thread(
            trading.submit_order,
            MarketOrderRequest(
                symbol="MSFT", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            ),
        )
        settle_server(sim)
        for _ in range(MAX_STEPS):
            if str(order.id) in filled:  # type: ignore[union-attr]
                break
            step_server(sim)
    finally:
        unsubscribe()
    assert str(order.id) in filled  # type: ignore[union-attr]
    return str(order.id)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("reading", "code", "message", "body"),
    [
        (
            "underscored",
            40010001,
            "client_order_id must be unique",
            '{"code":40010001,"message":"client_order_id must be unique"}',
        ),
        (
            "underscored_42210000",
            42210000,
            "client_order_id must be unique",
            '{"code":42210000,"message":"client_order_id must be unique"}',
        ),
        (
            "spaced",
            40010001,
            "client order id must be unique",
            '{"code":40010001,"message":"client order id must be unique"}',
        ),
        (
            "spaced_without_code",
            None,
            "client order id must be unique",
            '{"message":"client order id must be unique"}',
        ),
    ],
)
async def test_a_duplicate_reaches_the_sdk_in_each_recorded_wording(
    reading: str, code: int | None, message: str, body: str
) -> None:
    async with sim_with(duplicate_client_order_id=reading) as (_, trading):
        await asyncio.to_thread(trading.submit_order, resting("dup-1"))

        with pytest.raises(APIError) as caught:
            await asyncio.to_thread(trading.submit_order, resting("dup-1"))

    error = caught.value
    assert error.status_code == 422
    assert str(error).replace(" ", "") == body.replace(" ", "")
    if code is not None:
        assert (error.code, error.message) == (code, message)


async def test_a_cancel_of_a_filled_order_names_its_state() -> None:
    async with sim_with() as (sim, trading):
        order_id = await filled_order_id(sim, trading)

        with pytest.raises(APIError) as caught:
            await asyncio.to_thread(trading.cancel_order_by_id, order_id)

    error = caught.value
    assert (error.status_code, error.code) == (422, 42210000)
    assert error.message == 'order is already in "filled" state'


async def test_in_the_2021_reading_a_cancel_of_a_filled_order_is_taken_and_changes_nothing() -> (
    None
):
    async with sim_with(cancel_when_terminal="accepted") as (sim, trading):
        order_id = await filled_order_id(sim, trading)

        answer = await asyncio.to_thread(trading.cancel_order_by_id, order_id)
        after = await asyncio.to_thread(trading.get_order_by_id, order_id)

    assert answer is None  # alpaca-py's answer to a 204
    assert after.status is OrderStatus.FILLED  # type: ignore[union-attr]
