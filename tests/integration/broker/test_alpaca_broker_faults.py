"""Broker faults injected in the simulator, seen through the real SDK: unknown submit outcomes,
429 storms, hangs, non-JSON bodies, duplicate ids, a dead server."""

import random
import socket

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

from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_config import Secret
from plan_executor.adapters.alpaca_http import RetryPolicy, backoff_delay
from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.ports import BrokerError, BrokerUnavailable, OrderRejected

ORDERS = "/v2/orders"
BY_CLIENT_ID = "/v2/orders:by_client_order_id"
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def expected_backoffs(sim: SimServer, count: int) -> list[float]:
    config = config_for(sim)
    policy = RetryPolicy(config.retry_attempts, config.backoff_base_s, config.backoff_cap_s)
    rng = random.Random(BACKOFF_SEED)
    return [backoff_delay(policy, failures, rng) for failures in range(1, count + 1)]


async def test_a_504_after_commit_resolves_to_the_committed_order(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.fail_next(504, method="POST", path=ORDERS, phase="after")

    order = await broker.submit(resting_buy("f-AAPL-b-1"))

    [placed] = sim_orders(sim, "f-AAPL-b-1")
    assert order.broker_id == placed["id"]
    assert order.status is ChildOrderStatus.ACCEPTED
    assert [r["status"] for r in api_requests(sim, "POST", ORDERS)] == [504]
    assert [r["status"] for r in api_requests(sim, "GET", BY_CLIENT_ID)] == [200]


async def test_a_500_before_commit_is_looked_up_then_resent_with_the_same_id(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.fail_next(500, method="POST", path=ORDERS, phase="before")

    order = await broker.submit(market("f-MSFT-b-1", "MSFT", "2"))

    assert order.status is ChildOrderStatus.ACCEPTED
    assert len(sim_orders(sim, "f-MSFT-b-1")) == 1
    posts = api_requests(sim, "POST", ORDERS)
    assert [r["status"] for r in posts] == [500, 200]
    assert [r["status"] for r in api_requests(sim, "GET", BY_CLIENT_ID)] == [404]


async def test_a_submit_that_hangs_after_commit_times_out_and_is_found(
    sim: SimServer, limiter: CountingLimiter, sleeps: RecordedSleeps
) -> None:
    broker = AlpacaBroker(
        config_for(sim, http_timeout_s=0.5), limiter=limiter, rng=random.Random(1), sleep=sleeps
    )
    sim.faults.hang(method="POST", path=ORDERS, phase="after")
    try:
        order = await broker.submit(resting_buy("f-AAPL-b-2"))
    finally:
        sim.faults.clear()
        await broker.aclose()

    assert len(sim_orders(sim, "f-AAPL-b-2")) == 1
    assert order.client_order_id == "f-AAPL-b-2"
    assert api_requests(sim, "POST", ORDERS) == []  # cut off by our timeout: never answered
    assert [r["status"] for r in api_requests(sim, "GET", BY_CLIENT_ID)] == [200]


async def test_a_duplicate_client_order_id_resolves_to_the_first_order(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    first = await broker.submit(resting_buy("f-AAPL-b-3", qty="2"))

    again = await broker.submit(resting_buy("f-AAPL-b-3", qty="5"))

    assert again.broker_id == first.broker_id
    assert again.qty == first.qty
    assert len(sim_orders(sim, "f-AAPL-b-3")) == 1
    assert [r["status"] for r in api_requests(sim, "POST", ORDERS)] == [200, 422]
    assert [r["status"] for r in api_requests(sim, "GET", BY_CLIENT_ID)] == [200]


async def test_a_short_429_storm_is_ridden_out_with_growing_jittered_backoff(
    broker: AlpacaBroker, sim: SimServer, sleeps: RecordedSleeps
) -> None:
    sim.faults.fail_next(429, count=2, method="GET", path="/v2/account")

    account = await broker.account()

    assert account.trading_blocked is False
    assert [r["status"] for r in api_requests(sim, "GET", "/v2/account")] == [429, 429, 200]
    assert sleeps.delays == expected_backoffs(sim, 2)


async def test_a_429_storm_ends_unavailable_after_the_attempt_budget(
    broker: AlpacaBroker, sim: SimServer, sleeps: RecordedSleeps, limiter: CountingLimiter
) -> None:
    sim.faults.fail_next(429, count=None, method="GET", path="/v2/clock")

    with pytest.raises(BrokerUnavailable, match="after 3 attempts"):
        await broker.clock()

    assert len(api_requests(sim, "GET", "/v2/clock")) == 3  # no SDK retries underneath
    assert limiter.acquired == 3
    assert sleeps.delays == expected_backoffs(sim, 2)


async def test_the_simulators_own_rate_limit_is_retried_and_bounded(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.limiter.configure(per_minute=2)
    await broker.clock()
    await broker.clock()

    with pytest.raises(BrokerUnavailable, match="429"):
        await broker.positions()

    assert [r["status"] for r in api_requests(sim, "GET", "/v2/positions")] == [429, 429, 429]


async def test_a_429_on_submit_is_resent_without_a_lookup(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.fail_next(429, method="POST", path=ORDERS)

    await broker.submit(resting_buy("f-AAPL-b-4"))

    assert [r["status"] for r in api_requests(sim, "POST", ORDERS)] == [429, 200]
    assert api_requests(sim, "GET", BY_CLIENT_ID) == []


async def test_a_hung_quote_call_times_out_and_is_unavailable(
    sim: SimServer, limiter: CountingLimiter, sleeps: RecordedSleeps
) -> None:
    broker = AlpacaBroker(
        config_for(sim, http_timeout_s=0.5, retry_attempts=2),
        limiter=limiter,
        rng=random.Random(1),
        sleep=sleeps,
    )
    sim.faults.hang(count=None, path="/v2/stocks/quotes/latest")
    try:
        with pytest.raises(BrokerUnavailable, match="Timeout"):
            await broker.latest_quotes(["AAPL"])
    finally:
        sim.faults.clear()
        await broker.aclose()

    assert limiter.acquired == 2


async def test_a_non_json_500_body_maps_cleanly(broker: AlpacaBroker, sim: SimServer) -> None:
    sim.faults.fail_next(500, count=None, path="/v2/account", body=HTML_PAGE)

    with pytest.raises(BrokerUnavailable) as unavailable:
        await broker.account()

    assert "502 Bad Gateway" in str(unavailable.value)


async def test_a_single_non_json_500_is_retried_through(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.fail_next(500, count=1, path="/v2/positions", body=HTML_PAGE)

    positions = await broker.positions()

    assert "AAPL" in positions


async def test_a_non_json_403_on_submit_is_a_rejection_without_code(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.fail_next(403, method="POST", path=ORDERS, body="<h1>Forbidden</h1>")

    with pytest.raises(OrderRejected) as rejected:
        await broker.submit(resting_buy("f-AAPL-b-5"))

    assert (rejected.value.status, rejected.value.code) == (403, None)
    assert len(api_requests(sim, "POST", ORDERS)) == 1


async def test_a_rejection_armed_in_the_venue_is_not_retried(
    broker: AlpacaBroker, sim: SimServer
) -> None:
    sim.faults.reject_next_order(403, 40310000, "potential wash trade detected. use complex orders")

    with pytest.raises(OrderRejected, match="wash trade") as rejected:
        await broker.submit(resting_buy("f-AAPL-b-6"))

    assert rejected.value.code == 40310000
    assert len(api_requests(sim, "POST", ORDERS)) == 1


async def test_a_dead_server_is_unavailable_not_a_hang(
    limiter: CountingLimiter, sleeps: RecordedSleeps, sim: SimServer
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    broker = AlpacaBroker(
        config_for(sim, trading_url=dead), limiter=limiter, rng=random.Random(1), sleep=sleeps
    )
    try:
        with pytest.raises(BrokerUnavailable, match="ConnectionError"):
            await broker.account()
        with pytest.raises(BrokerUnavailable):
            await broker.submit(resting_buy("f-AAPL-b-7"))
    finally:
        await broker.aclose()


async def test_wrong_credentials_fail_without_retries(
    limiter: CountingLimiter, sim: SimServer
) -> None:
    broker = AlpacaBroker(
        config_for(sim, secret_key=Secret("wrong")), limiter=limiter, rng=random.Random(1)
    )
    try:
        with pytest.raises(BrokerError, match="authentication failed"):
            await broker.account()
    finally:
        await broker.aclose()

    assert limiter.acquired == 1
