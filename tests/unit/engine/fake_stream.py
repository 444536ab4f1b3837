"""The fake trade stream: events pushed while connected are delivered, others are lost."""

import asyncio

from plan_executor.ports import TradeEvent


class FakeFeed:
    """The trade stream: events pushed while connected are delivered; while disconnected they
    are lost, as on a dropped websocket."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[TradeEvent] = asyncio.Queue()
        self._connected = True
        self._muted = False
        self.pushed: list[TradeEvent] = []
        self.restarts = 0
        self.restarted = asyncio.Event()
        self.all_taken = asyncio.Event()
        """Set whenever the reader has taken every event pushed so far."""
        self.all_taken.set()

    @property
    def connected(self) -> bool:
        return self._connected

    def disconnect(self) -> None:
        self._connected = False

    def reconnect(self) -> None:
        self._connected = True

    def mute(self, muted: bool = True) -> None:
        """A silent socket: still connected, every event pushed meanwhile is lost."""
        self._muted = muted

    def restart(self) -> None:
        """`ports.TradeEventFeed.restart`: down until the test reconnects it."""
        self.restarts += 1
        self._connected = False
        self.restarted.set()

    def push(self, event: TradeEvent) -> None:
        if self._connected and not self._muted:
            self.pushed.append(event)
            self.all_taken.clear()
            self._queue.put_nowait(event)

    def __aiter__(self) -> "FakeFeed":
        return self

    async def __anext__(self) -> TradeEvent:
        event = await self._queue.get()
        if self._queue.empty():
            self.all_taken.set()
        return event


class FakeSubscription:
    """`async with broker.trade_events() as feed`: registers the feed while open."""

    def __init__(self, feeds: list[FakeFeed], *, connected: bool) -> None:
        self._feeds = feeds
        self._connected = connected
        self.feed: FakeFeed | None = None
        self.exited = False

    async def __aenter__(self) -> FakeFeed:
        self.feed = FakeFeed()
        if not self._connected:
            self.feed.disconnect()
        self._feeds.append(self.feed)
        return self.feed

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.feed is not None
        self._feeds.remove(self.feed)
        self.exited = True
