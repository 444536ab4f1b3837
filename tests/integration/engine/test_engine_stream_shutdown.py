"""The trade stream is closed on every path, also when updates are arriving as it closes (a
crashed or timed-out run leaves the broker busy)."""

import asyncio

from engine_support import CLOSE_BOUND_S, EngineHarness

from alpaca_sim.server import SimServer

ROUNDS = 12
PHASES = 4
BURST = 40


async def test_the_trade_stream_closes_while_updates_pour_in(
    sim: SimServer, harness: EngineHarness
) -> None:
    broker = harness.broker()
    try:
        for round_ in range(ROUNDS):
            subscription = broker.trade_events()
            feed = await subscription.__aenter__()
            assert feed.connected
            # Each fills at once (new, fill or partial_fill, and more) on the stream. All buys: a
            # sell opposite a buy that a random paper partial fill left open is a wash trade.
            for n in range(BURST):
                sim.venue.submit_order(
                    {
                        "symbol": "NVDA",
                        "qty": "0.01",
                        "side": "buy",
                        "type": "market",
                        "time_in_force": "day",
                        "client_order_id": f"burst-{round_}-{n}",
                    }
                )
            async with asyncio.timeout(CLOSE_BOUND_S):
                await anext(aiter(feed))  # close while the rest of the burst is arriving,
            for _ in range(round_ % PHASES):  # at every phase of the stream's receive loop
                await asyncio.sleep(0)
            async with asyncio.timeout(CLOSE_BOUND_S):
                await subscription.__aexit__(None, None, None)
            assert not feed.connected
        await asyncio.wait_for(sim.hub.wait_listening(0), CLOSE_BOUND_S)
    finally:
        await broker.aclose()
