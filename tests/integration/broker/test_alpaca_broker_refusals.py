"""Refusals that matter to money, through the real SDK over HTTP: every recorded Alpaca body for
a taken client_order_id, an order refused outright, and a cancel past cancelling, injected at the
simulator, and the simulator's own recorded wordings of each (alpaca_sim.refusals). The adapter
must end on the broker's real state of the order, whatever the words."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from broker_helpers import (
    BACKOFF_SEED,
    CountingLimiter,
    RecordedSleeps,
    api_requests,
    config_for,
    market,
    resting_buy,
    sim_orders,
)
from tests.support.alpaca_error_bodies import Meaning, RecordedBody, bodies

from alpaca_sim.refusals import DUPLICATE_CLIENT_ORDER_ID, RefusalWording
from alpaca_sim.scenario import default_scenario
from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.ports import BrokerError, OrderNotCancelable, OrderRejected

ORDERS = "/v2/orders"
ONE_ORDER = "/v2/orders/*"
BY_CLIENT_ID = "/v2/orders:by_client_order_id"
UNSEEN_WORDS = "refused in words no recorded body used"


def named(recorded: list[RecordedBody]) -> list[object]:
    return [pytest.param(body, id=body.name) for body in recorded]


def wire_body(text: str) -> object:
    """What the simulator sends: the recorded JSON, or the recorded text as is."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def reworded(text: str) -> object:
    """The recorded status and code, in words no rule of the adapter knows."""
    decoded = wire_body(text)
    kept = decoded if isinstance(decoded, dict) else {}
    return {**kept, "message": UNSEEN_WORDS}


MARKET_STEPS_TO_FILL = 20
"""A paper partial fill's remainder fills at a later step with 90 % odds each time."""


@asynccontextmanager
async def broker_over(**wording: str) -> AsyncIterator[tuple[SimServer, AlpacaBroker]]:
    scenario = dataclasses.replace(default_scenario(), refusals=RefusalWording(**wording))
    async with SimServer(scenario=scenario, seed=3) as sim:
        adapter = AlpacaBroker(
            config_for(sim),
            limiter=CountingLimiter(),
            rng=random.Random(BACKOFF_SEED),
            sleep=RecordedSleeps(),
        )
        try:
            yield sim, adapter
        finally:
            await adapter.aclose()


async def filled_market_buy(sim: SimServer, broker: AlpacaBroker, client_order_id: str) -> str:
    """A market buy, once the simulator has published its fill (acks and fills may lag)."""
    filled: set[str] = set()

    def on_update(update: Mapping[str, Any]) -> None:
        if update["event"] == "fill":
            filled.add(update["order"]["client_order_id"])

    unsubscribe = sim.venue.subscribe(on_update)
    try:
        order = await broker.submit(market(client_order_id, "MSFT", "2"))
        for _ in range(MARKET_STEPS_TO_FILL):
            if client_order_id in filled:
                break
            # The sim's clock is manual: move it one market step at a time (acknowledgement
            # and execution lag the answer; a paper partial fill leaves the rest for a later
            # step, alpaca_sim.fillmodel).
            sim.venue.clock.advance(1.0)
            sim.venue.tick()
    finally:
        unsubscribe()
    assert client_order_id in filled, f"{client_order_id} did not fill"
    return order.broker_id


# --- a client_order_id already taken ----------------------------------------------------------


@pytest.mark.parametrize("body", named(bodies(operation="submit", meaning=Meaning.TAKEN)))
@pytest.mark.parametrize("words", ["recorded", "unseen"])
async def test_a_taken_id_resolves_to_the_order_placed(
    broker: AlpacaBroker, sim: SimServer, body: RecordedBody, words: str
) -> None:
    sent = wire_body(body.text) if words == "recorded" else reworded(body.text)
    # The order is placed, and the answer is the recorded refusal of a taken id.
    sim.faults.fail_next(body.status, method="POST", path=ORDERS, phase="after", body=sent)

    order = await broker.submit(resting_buy("r-AAPL-b-1"))

    [placed] = sim_orders(sim, "r-AAPL-b-1")
    assert order.broker_id == placed["id"]
    assert order.status is ChildOrderStatus.NEW
    assert [r["status"] for r in api_requests(sim, "POST", ORDERS)] == [body.status]
    assert [r["status"] for r in api_requests(sim, "GET", BY_CLIENT_ID)] == [200]


@pytest.mark.parametrize("reading", list(DUPLICATE_CLIENT_ORDER_ID))
async def test_a_resend_refused_in_each_recorded_wording_finds_the_first_order(
    reading: str,
) -> None:
    async with broker_over(duplicate_client_order_id=reading) as (sim, broker):
        # The answer to the first send is lost, and the lookup does not see the order yet:
        # the resend is refused as a duplicate in the scenario's wording.
        sim.faults.fail_next(504, method="POST", path=ORDERS, phase="after")
        sim.faults.fail_next(404, method="GET", path=BY_CLIENT_ID)

        order = await broker.submit(resting_buy("r-AAPL-b-2"))

        [placed] = sim_orders(sim, "r-AAPL-b-2")
        assert order.broker_id == placed["id"]
        assert [r["status"] for r in api_requests(sim, "POST", ORDERS)] == [504, 422]
        assert [r["status"] for r in api_requests(sim, "GET", BY_CLIENT_ID)] == [404, 200]


# --- an order refused outright -----------------------------------------------------------------


@pytest.mark.parametrize("body", named(bodies(operation="submit", meaning=Meaning.REFUSED)))
async def test_a_refused_order_is_a_rejection_with_its_status_and_code(
    broker: AlpacaBroker, sim: SimServer, body: RecordedBody
) -> None:
    sim.faults.fail_next(body.status, method="POST", path=ORDERS, body=wire_body(body.text))

    with pytest.raises(OrderRejected) as rejected:
        await broker.submit(resting_buy("r-AAPL-b-3"))

    assert (rejected.value.status, rejected.value.code) == (
        body.status,
        json.loads(body.text).get("code"),
    )
    assert sim_orders(sim, "r-AAPL-b-3") == []
    assert len(api_requests(sim, "POST", ORDERS)) == 1
    lookups = 1 if body.status == 422 else 0  # a 422 might have been a taken id: asked once
    assert len(api_requests(sim, "GET", BY_CLIENT_ID)) == lookups


# --- a cancel past cancelling ------------------------------------------------------------------


@pytest.mark.parametrize("body", named(bodies(operation="cancel", meaning=Meaning.PAST_CANCELLING)))
@pytest.mark.parametrize("words", ["recorded", "unseen"])
async def test_a_refused_cancel_of_a_filled_order_carries_the_fill(
    broker: AlpacaBroker, sim: SimServer, body: RecordedBody, words: str
) -> None:
    broker_id = await filled_market_buy(sim, broker, "r-MSFT-b-1")
    sent = wire_body(body.text) if words == "recorded" else reworded(body.text)
    sim.faults.fail_next(body.status, method="DELETE", path=ONE_ORDER, body=sent)

    with pytest.raises(OrderNotCancelable) as refused:
        await broker.cancel(broker_id)

    past = refused.value.order
    assert past is not None
    assert (past.broker_id, past.status, past.filled_qty) == (
        broker_id,
        ChildOrderStatus.FILLED,
        2,
    )
    assert past.filled_avg_price is not None


@pytest.mark.parametrize("body", named(bodies(operation="cancel", meaning=Meaning.PAST_CANCELLING)))
async def test_the_same_refusal_of_a_cancel_of_an_open_order_leaves_it_open(
    broker: AlpacaBroker, sim: SimServer, body: RecordedBody
) -> None:
    order = await broker.submit(resting_buy("r-AAPL-b-4"))
    sim.faults.fail_next(body.status, method="DELETE", path=ONE_ORDER, body=wire_body(body.text))

    with pytest.raises(BrokerError) as failed:
        await broker.cancel(order.broker_id)

    assert not isinstance(failed.value, OrderNotCancelable)
    [still] = sim_orders(sim, "r-AAPL-b-4")
    assert still["status"] == "new"
    await broker.cancel(order.broker_id)  # asked again, it is cancelled
    [after] = sim_orders(sim, "r-AAPL-b-4")
    assert after["status"] in {"pending_cancel", "canceled"}


async def test_the_simulators_own_refusal_of_a_cancel_of_a_filled_order_carries_the_fill() -> None:
    async with broker_over() as (sim, broker):
        broker_id = await filled_market_buy(sim, broker, "r-MSFT-b-2")

        with pytest.raises(OrderNotCancelable) as refused:
            await broker.cancel(broker_id)

        [delete] = api_requests(sim, "DELETE", f"{ORDERS}/{broker_id}")
        assert delete["status"] == 422
    assert refused.value.order is not None
    assert refused.value.order.status is ChildOrderStatus.FILLED


async def test_in_the_2021_reading_a_cancel_of_a_filled_order_is_taken_and_changes_nothing() -> (
    None
):
    async with broker_over(cancel_when_terminal="accepted") as (sim, broker):
        broker_id = await filled_market_buy(sim, broker, "r-MSFT-b-3")

        await broker.cancel(broker_id)  # 204: taken; only a read tells what the order is

        found = await broker.order_by_client_id("r-MSFT-b-3")
    assert found is not None
    assert found.status is ChildOrderStatus.FILLED
