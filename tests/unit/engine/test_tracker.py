"""The tracker: stream first, polling only while the stream is down or silent, every update
applied once."""

import asyncio
from datetime import timedelta
from decimal import Decimal

from plan_executor.domain.child_order import submitted
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Price, Shares
from plan_executor.domain.order_updates import OrderUpdate, UpdateKind
from plan_executor.engine.tracker import OrderTracker, is_terminal
from plan_executor.ports import TradeEvent

from .builders import T0
from .fake_market import FakeClock, FakeMarket
from .fakes import FakeBroker, FakeFeed

PLAN_HASH = "0123456789"
LONG = timedelta(seconds=30)
"""A hang guard: what is awaited comes within milliseconds (`wait_until` returns the order
as it stands when this runs out, so it must not run out on a slow machine)."""
S = ChildOrderStatus


def _setup(
    *, connected: bool = True, silence: timedelta = LONG
) -> tuple[FakeBroker, FakeFeed, OrderTracker]:
    clock = FakeClock(T0)
    market = FakeMarket(clock)
    market.set_quote("AAPL", "100.00", "100.10")
    broker = FakeBroker(clock, market)
    feed = FakeFeed()
    if not connected:
        feed.disconnect()
    tracker = OrderTracker(
        broker,
        feed,
        plan_hash=PLAN_HASH,
        poll_interval=timedelta(milliseconds=5),
        silence_timeout=silence,
    )
    return broker, feed, tracker


def _cid(n: int) -> str:
    return f"{PLAN_HASH}-AAPL-s-{n}"


def _track(broker: FakeBroker, tracker: OrderTracker, n: int) -> str:
    cid = _cid(n)
    order = broker.seed_order(
        cid, "AAPL", Side.SELL, "10", limit="101.00", status=S.NEW, submitted_at=T0
    )
    tracker.adopt(order.snapshot())
    return cid


def _fill_event(cid: str, *, execution_id: str = "x1") -> TradeEvent:
    update = OrderUpdate(
        kind=UpdateKind.FILL,
        at=T0,
        filled_qty=Shares(Decimal(10)),
        avg_price=Price(Decimal(101)),
        execution_id=execution_id,
        last_qty=Shares(Decimal(10)),
        last_price=Price(Decimal(101)),
    )
    return TradeEvent(cid, "AAPL", update)


async def test_connected_stream_means_no_rest_reads() -> None:
    broker, feed, tracker = _setup()
    async with tracker.running():
        cid = _track(broker, tracker, 1)
        order = await tracker.wait_until(cid, is_terminal, timedelta(milliseconds=50))
        assert order.is_open
        feed.push(_fill_event(cid))
        order = await tracker.wait_until(cid, is_terminal, LONG)
    assert order.status is S.FILLED
    assert tracker.rest_reads == 0
    assert "order_by_client_id" not in broker.calls


async def test_duplicate_and_replayed_messages_apply_once() -> None:
    broker, feed, tracker = _setup()
    async with tracker.running():
        cid = _track(broker, tracker, 1)
        partial = OrderUpdate(
            kind=UpdateKind.PARTIAL_FILL,
            at=T0,
            filled_qty=Shares(Decimal(4)),
            avg_price=Price(Decimal(101)),
            execution_id="x0",
            last_qty=Shares(Decimal(4)),
            last_price=Price(Decimal(101)),
        )
        for event in (TradeEvent(cid, "AAPL", partial),) * 2 + (_fill_event(cid),) * 3:
            feed.push(event)
        feed.push(TradeEvent(cid, "AAPL", partial))  # a replay after the fill
        order = await tracker.wait_until(cid, is_terminal, LONG)
        assert await tracker.wait_until(cid, lambda o: False, timedelta(milliseconds=20)) == order
    assert order.filled_qty == Decimal(10)
    assert [fill.qty for fill in order.fills] == [Decimal(4), Decimal(6)]


async def test_news_before_registration_is_applied_on_registration() -> None:
    _, feed, tracker = _setup()
    cid = _cid(7)
    async with tracker.running():
        feed.push(_fill_event(cid))
        await asyncio.wait_for(feed.all_taken.wait(), LONG.total_seconds())  # order unknown
        assert not tracker.knows(cid)
        tracker.register(
            submitted(
                client_order_id=cid,
                symbol="AAPL",
                side=Side.SELL,
                order_type=OrderType.LIMIT,
                qty=Shares(Decimal(10)),
                limit_price=Price(Decimal(101)),
                at=T0,
            )
        )
        order = tracker.get(cid)
    assert order.status is S.FILLED


async def test_stream_down_polls_the_waited_orders_concurrently() -> None:
    broker, _, tracker = _setup(connected=False)
    broker.read_delay_s = 0.02
    async with tracker.running():
        ids = [_track(broker, tracker, n) for n in (1, 2, 3)]
        for cid in ids:
            broker.cancel_by_broker(cid)  # the news is lost: the stream is down
        orders = await tracker.wait_all(ids, is_terminal, LONG)
    assert [order.status for order in orders] == [S.CANCELED] * 3
    assert broker.max_reads_in_flight == 3


async def test_gap_after_reconnect_is_covered_by_one_read_of_open_orders() -> None:
    broker, feed, tracker = _setup(connected=False)
    async with tracker.running():
        cid = _track(broker, tracker, 1)
        broker.cancel_by_broker(cid)  # lost while down, and nobody was waiting
        feed.reconnect()
        order = await tracker.wait_until(cid, is_terminal, LONG)
    assert order.status is S.CANCELED
    assert tracker.rest_reads >= 1


async def test_a_failing_stream_falls_back_to_polling() -> None:
    broker, _, tracker = _setup()

    class BrokenFeed(FakeFeed):
        async def __anext__(self) -> TradeEvent:
            raise ConnectionResetError("websocket closed")

    broken = BrokenFeed()
    tracker = OrderTracker(
        broker,
        broken,
        plan_hash=PLAN_HASH,
        poll_interval=timedelta(milliseconds=5),
        silence_timeout=LONG,
    )
    async with tracker.running():
        cid = _track(broker, tracker, 1)
        broker.cancel_by_broker(cid)
        order = await tracker.wait_until(cid, is_terminal, LONG)
        assert not tracker.stream_connected
    assert order.status is S.CANCELED


async def test_an_update_that_does_not_fit_is_ignored_and_the_stream_goes_on() -> None:
    broker, feed, tracker = _setup()
    async with tracker.running():
        cid = _track(broker, tracker, 1)
        too_much = OrderUpdate(kind=UpdateKind.PARTIAL_FILL, at=T0, filled_qty=Shares(Decimal(11)))
        feed.push(TradeEvent(cid, "AAPL", too_much))
        feed.push(_fill_event(cid))
        order = await tracker.wait_until(cid, is_terminal, LONG)
        assert tracker.stream_connected
    assert order.status is S.FILLED
    assert order.filled_qty == Decimal(10)


SILENCE = timedelta(milliseconds=30)


async def _cancel_taken(broker: FakeBroker, tracker: OrderTracker, cid: str) -> None:
    """As the order desk does it: the broker takes the cancel, the stream owes the news."""
    tracker.asking(cid)
    broker_id = tracker.get(cid).broker_id
    assert broker_id is not None
    await broker.cancel(broker_id)
    tracker.expect_news(cid)


async def test_owed_news_missing_from_a_mute_stream_is_read_and_the_stream_replaced() -> None:
    broker, feed, tracker = _setup(silence=SILENCE)
    broker.feeds.append(feed)  # the fake broker's news goes to this feed
    async with tracker.running():
        cid = _track(broker, tracker, 1)
        feed.mute()  # still connected, says nothing
        await _cancel_taken(broker, tracker, cid)

        order = await tracker.wait_until(cid, is_terminal, LONG)
        assert (tracker.silences, tracker.stream_connected) == (1, False)
        await asyncio.wait_for(feed.restarted.wait(), LONG.total_seconds())

    assert order.status is S.CANCELED
    assert broker.read_ids[0] == cid
    assert (tracker.restarts, feed.restarts) == (1, 1)


async def test_one_missing_event_from_a_stream_that_speaks_is_read_alone() -> None:
    broker, feed, tracker = _setup(silence=SILENCE)
    broker.feeds.append(feed)
    async with tracker.running():
        quiet, heard = _track(broker, tracker, 1), _track(broker, tracker, 2)
        feed.mute()
        await _cancel_taken(broker, tracker, quiet)  # its canceled is lost
        feed.mute(False)
        await _cancel_taken(broker, tracker, heard)  # its canceled comes

        orders = await tracker.wait_all([quiet, heard], is_terminal, LONG)
        assert tracker.stream_connected

    assert [order.status for order in orders] == [S.CANCELED, S.CANCELED]
    assert broker.read_ids == [quiet], "only the order whose news is missing is read"
    assert (tracker.silences, feed.restarts) == (0, 0)
