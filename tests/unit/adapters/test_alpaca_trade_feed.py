"""The feed object alone: what it yields, counts, and how iteration ends."""

import asyncio

from alpaca_samples import trade_update, wire_order

from plan_executor.adapters.alpaca_stream import AlpacaTradeFeed
from plan_executor.domain.order_updates import UpdateKind


def message(data: object) -> dict[str, object]:
    return {"stream": "trade_updates", "data": data}


async def test_mapped_events_come_out_in_arrival_order() -> None:
    feed = AlpacaTradeFeed()

    await feed._receive(message(trade_update("new", wire_order())))
    await feed._receive(message(trade_update("canceled", wire_order(status="canceled"))))

    first = await anext(feed)
    second = await anext(feed)
    assert [first.update.kind, second.update.kind] == [UpdateKind.NEW, UpdateKind.CANCELED]


async def test_unknown_events_are_ignored_and_counted() -> None:
    feed = AlpacaTradeFeed()

    await feed._receive(message(trade_update("teleported", wire_order())))
    await feed._receive(message(trade_update("fill", wire_order(status="filled", filled_qty="3"))))

    assert feed.ignored_events == 1
    assert (await anext(feed)).update.kind is UpdateKind.FILL


async def test_unreadable_messages_are_dropped_and_counted() -> None:
    feed = AlpacaTradeFeed()

    await feed._receive(message("not an object"))
    await feed._receive({"stream": "trade_updates"})
    await feed._receive(message(trade_update("fill", wire_order(side="sideways"))))
    await feed._receive(message({"order": wire_order()}))

    assert feed.malformed_messages == 4
    assert feed._queue.empty()


async def test_a_cancelled_wait_loses_nothing() -> None:
    feed = AlpacaTradeFeed()

    try:
        async with asyncio.timeout(0.01):
            await anext(feed)
    except TimeoutError:
        pass
    await feed._receive(message(trade_update("new", wire_order())))

    assert (await anext(feed)).update.kind is UpdateKind.NEW


async def test_iteration_ends_after_the_queued_events_when_the_feed_ends() -> None:
    feed = AlpacaTradeFeed()
    await feed._receive(message(trade_update("new", wire_order())))

    feed._end()
    seen = [event.update.kind async for event in feed]

    assert seen == [UpdateKind.NEW]
    assert [event async for event in feed] == []


async def test_connected_follows_listening_and_drops() -> None:
    feed = AlpacaTradeFeed()
    assert feed.connected is False

    feed._mark_listening(True)
    assert feed.connected is True
    async with asyncio.timeout(1):
        await feed.wait_until_connected(True)

    feed._mark_down()
    assert feed.connected is False
    assert feed.drops == 1
    async with asyncio.timeout(1):
        await feed.wait_until_connected(False)

    feed._mark_listening(False)  # a listen ack without trade_updates is not connected
    feed._mark_down()
    assert feed.drops == 1
