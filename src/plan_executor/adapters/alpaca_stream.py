"""The `trade_updates` subscription: one alpaca-py TradingStream per `async with`.

alpaca-py's own `run()`/`stop()` own an event loop and take ~5 s to stop (the receive loop polls
with a 5 s timeout). Here its `_run_forever()` coroutine runs as a task in our loop and exit is
ours: stop the task, close the websocket with a short close timeout, and await everything.

alpaca-py private surface relied on (pinned by tests/unit/adapters/test_alpaca_sdk_surface.py):
`TradingStream._run_forever()` (connect, auth, listen, consume, reconnect with backoff),
`_start_ws()` (one connection attempt: connect, authenticate, listen; we see it fail there),
`_dispatch(msg)` (called for every decoded message: we see the `listening` ack there),
`close()` (called on every drop: we flip `connected` there), `_ws` (closed to restart a
silent stream), `_reconnect_min_backoff`, `_reconnect_max_backoff`; and the public `stop_ws()`
(stop flag, stop event and the stop queue that the receive loop `_consume()` polls).

A connection refused (Alpaca allows one trade_updates connection per account: alpaca-py #740;
the refusal is an HTTP 429 at the handshake or an authentication answered "unauthorized")
never stalls a plan: entering returns as soon as the first attempt failed, with the feed
disconnected (the engine polls), while alpaca-py keeps retrying with its backoff.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Self

from alpaca.common.enums import BaseURL
from alpaca.trading.stream import TradingStream

from plan_executor.adapters.alpaca_config import AlpacaConfig
from plan_executor.adapters.alpaca_mapping import trade_event_from_wire
from plan_executor.adapters.alpaca_wire import wire_object
from plan_executor.ports import TradeEvent

log = logging.getLogger(__name__)

TRADE_UPDATES = "trade_updates"
_END = None
WEBSOCKET_LOGGER = "websockets.client"
"""Where alpaca-py's websocket logs every frame at DEBUG, the authentication frame included."""
_AUTH_FRAME_MARKS = ("authenticate", "secret_key")


def stream_endpoint(config: AlpacaConfig) -> str:
    if config.stream_url is not None:
        return config.stream_url
    default = BaseURL.TRADING_STREAM_PAPER if config.paper else BaseURL.TRADING_STREAM_LIVE
    return default.value


class _AuthFrameRedaction(logging.Filter):
    """websockets logs each frame's start and end at DEBUG (`> %s` out, `< %s` in): the end of
    the first frame we send is the secret key. That record keeps its place in the log, without
    the frame; the broker's reply (authorized or not) stays readable."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        sent = str(record.msg).startswith(">")
        if sent and any(mark in str(arg) for arg in args for mark in _AUTH_FRAME_MARKS):
            record.args = ("<redacted: stream authentication frame>",)
        return True


def redact_stream_auth_frames() -> None:
    """Idempotent: keep the credentials out of the websocket's DEBUG frame log."""
    wire_log = logging.getLogger(WEBSOCKET_LOGGER)
    if not any(isinstance(f, _AuthFrameRedaction) for f in wire_log.filters):
        wire_log.addFilter(_AuthFrameRedaction())


class _ObservedTradingStream(TradingStream):
    """TradingStream that reports when it is listening and when its websocket goes away."""

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        on_listening: Callable[[bool], None],
        on_closed: Callable[[], None],
        on_attempt_failed: Callable[[BaseException], None],
    ) -> None:
        redact_stream_auth_frames()
        super().__init__(
            config.key_id,
            config.secret_key.reveal(),
            paper=config.paper,
            raw_data=True,
            url_override=stream_endpoint(config),
            websocket_params={
                "ping_interval": 10,
                "ping_timeout": 180,
                "max_queue": 1024,
                "open_timeout": config.stream_connect_timeout_s,
                "close_timeout": config.stream_close_timeout_s,
            },
        )
        self._reconnect_min_backoff = config.stream_reconnect_min_s
        self._reconnect_max_backoff = config.stream_reconnect_max_s
        self._on_listening = on_listening
        self._on_closed = on_closed
        self._on_attempt_failed = on_attempt_failed

    async def run_in_running_loop(self) -> None:
        """Connect, listen and reconnect until cancelled."""
        await self._run_forever()  # type: ignore[no-untyped-call]  # alpaca-py leaves it untyped

    async def _start_ws(self) -> None:
        try:
            await super()._start_ws()  # type: ignore[no-untyped-call]  # untyped in alpaca-py
        except Exception as error:  # refused, unauthorized, unreachable: it will retry
            self._on_attempt_failed(error)
            raise

    def current_websocket(self) -> Any:
        return self._ws

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("stream") == "listening":
            data = msg.get("data")
            streams = data.get("streams") if isinstance(data, dict) else None
            self._on_listening(isinstance(streams, list) and TRADE_UPDATES in streams)
        await super()._dispatch(msg)

    async def close(self) -> None:
        self._on_closed()
        await super().close()


class AlpacaTradeFeed:
    """`ports.TradeEventFeed`: mapped trade events in arrival order, and whether the stream is
    up. Iteration ends when the subscription is left. Cancelling a pending `__anext__` (e.g. a
    wait with a timeout) loses nothing."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[TradeEvent | None] = asyncio.Queue()
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._down.set()
        self._first_attempt_done = asyncio.Event()
        self._ended = False
        self._ending = False
        self._restarter: Callable[[], None] | None = None
        self.failed_attempts = 0
        """Connection attempts that failed (refused, unauthorized, unreachable)."""
        self.restarts = 0
        """Connections given up because the engine presumed them silent."""
        self.ignored_events = 0
        """trade_updates events of a kind we do not know (dropped)."""
        self.malformed_messages = 0
        """trade_updates messages we could not read (dropped, logged)."""
        self.drops = 0
        """Times the stream went down after having been up."""

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    async def wait_until_connected(self, connected: bool = True) -> None:
        """Return once `connected` has the wanted value (bound it with a timeout)."""
        await (self._up if connected else self._down).wait()

    def restart(self) -> None:
        """`ports.TradeEventFeed.restart`: down now; the subscription reconnects."""
        if self._restarter is not None and not self._ending:
            self.restarts += 1
            self._mark_down()
            self._restarter()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> TradeEvent:
        if self._ended and self._queue.empty():
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is _END:
            self._ended = True
            raise StopAsyncIteration
        return event

    def _mark_listening(self, listening: bool) -> None:
        if listening:
            self._down.clear()
            self._up.set()
            self._first_attempt_done.set()
        else:
            self._mark_down()

    def _attempt_failed(self, error: BaseException) -> None:
        self.failed_attempts += 1
        self._first_attempt_done.set()
        log.warning("trade_updates connection attempt failed: %s", error)

    def _mark_down(self) -> None:
        if self._up.is_set() and not self._ending:
            self.drops += 1
        self._up.clear()
        self._down.set()

    async def _receive(self, message: Any) -> None:
        try:
            event = trade_event_from_wire(
                wire_object(wire_object(message, "message").get("data"), "data")
            )
        except Exception as error:  # one bad message must not stop the stream
            self.malformed_messages += 1
            log.warning("unreadable trade update dropped: %s", error)
            return
        if event is None:
            self.ignored_events += 1
            return
        self._queue.put_nowait(event)

    def _end(self) -> None:
        self._mark_down()
        self._queue.put_nowait(_END)


class AlpacaTradeEvents:
    """`ports.TradeEventSubscription`. Entering connects, authenticates and listens, bounded by
    `stream_connect_timeout_s`, and returns as soon as the stream listens or its first attempt
    fails (refused: one connection per account); then the feed is returned with
    `connected == False` (the engine polls) while the stream keeps retrying in the background.
    A stream failure never raises out of here."""

    def __init__(self, config: AlpacaConfig) -> None:
        self._config = config
        self._feed: AlpacaTradeFeed | None = None
        self._stream: _ObservedTradingStream | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> AlpacaTradeFeed:
        if self._feed is not None:
            raise RuntimeError("a trade event subscription is entered once")
        feed = AlpacaTradeFeed()
        stream = _ObservedTradingStream(
            self._config,
            on_listening=feed._mark_listening,
            on_closed=feed._mark_down,
            on_attempt_failed=feed._attempt_failed,
        )
        stream.subscribe_trade_updates(feed._receive)
        feed._restarter = self._give_up_connection
        self._feed, self._stream = feed, stream
        self._task = asyncio.create_task(stream.run_in_running_loop(), name="alpaca-trade-updates")
        try:
            async with asyncio.timeout(self._config.stream_connect_timeout_s):
                await feed._first_attempt_done.wait()
        except TimeoutError:
            pass
        except BaseException:
            await self.aclose()  # cancelled while connecting: __aexit__ will not run
            raise
        if not feed.connected:
            log.warning("trade_updates stream not listening yet; the engine will poll")
        return feed

    def _give_up_connection(self) -> None:
        """Close the current websocket (bounded by the close timeout); alpaca-py's receive
        loop then fails and connects afresh after its backoff."""
        stream = self._stream
        websocket = stream.current_websocket() if stream is not None else None
        if websocket is None:
            return  # between connections: alpaca-py is reconnecting already
        task = asyncio.create_task(_close_quietly(websocket), name="alpaca-trade-updates-restart")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the stream task, close the websocket, end the feed. Idempotent."""
        stream, task, feed = self._stream, self._task, self._feed
        self._stream = self._task = None
        if stream is None or task is None or feed is None:
            return
        feed._ending = True
        # Also through the stop queue that the receive loop polls: a cancel that lands as a
        # message arrives is swallowed by its `wait_for` (Python 3.11), and only this ends it.
        await stream.stop_ws()
        task.cancel()
        try:
            await asyncio.wait({task})
        finally:
            # Even if we are cancelled meanwhile: the websocket is closed (bounded by the
            # close timeout) and the feed ends.
            with contextlib.suppress(Exception):
                await stream.close()
            feed._end()
            if self._closing:
                await asyncio.wait(set(self._closing))
        if not task.cancelled() and task.exception() is not None:
            log.warning("trade_updates stream task failed: %r", task.exception())


async def _close_quietly(websocket: Any) -> None:
    with contextlib.suppress(Exception):
        await websocket.close()
