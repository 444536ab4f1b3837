"""The trade_updates websocket at /stream (Alpaca paper protocol, binary frames of JSON).

One StreamHub listens to the venue; each connection gets its own queue and a single sender task,
so protocol replies and trade updates leave in exactly the order they were produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from alpaca_sim.httpio import dumps, json_response
from alpaca_sim.watch import CountWatch

if TYPE_CHECKING:
    from alpaca_sim.venue import TradeUpdate, Venue

TRADE_UPDATES = "trade_updates"
KNOWN_STREAMS = frozenset({TRADE_UPDATES})
Credentials = Callable[[], tuple[str, str]]


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_queue: int) -> None:
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=max_queue)
        self.authorized = False
        self.streams: tuple[str, ...] = ()
        self.sender: asyncio.Task[None] | None = None

    def push(self, frame: bytes) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.abort()  # a consumer this far behind is cut off, as a real server would

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class StreamHub:
    def __init__(
        self,
        venue: Venue,
        credentials: Credentials,
        *,
        wall: Callable[[], float] = time.monotonic,
        max_queue: int = 10_000,
    ) -> None:
        self._venue = venue
        self._credentials = credentials
        self._wall = wall
        self._max_queue = max_queue
        self._connections: set[_Connection] = set()
        self._refuse_until = 0.0
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._listening = CountWatch()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def listening_count(self) -> int:
        """Connections currently subscribed to trade_updates."""
        return self._listening.value

    async def wait_listening(self, count: int) -> None:
        """Wait until exactly `count` connections listen (bound it with a timeout)."""
        await self._listening.wait_for(count)

    def attach(self) -> None:
        """Start listening to the venue; call from the server's event loop."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._unsubscribe = self._venue.subscribe(self._on_update)

    def refusing(self) -> bool:
        return self._closing or self._wall() < self._refuse_until

    def drop_all(self, refuse_seconds: float = 0.0) -> int:
        """Cut every connection abruptly (no close frame); refuse new ones for a while."""
        self._refuse_until = self._wall() + max(refuse_seconds, 0.0)
        dropped = list(self._connections)
        for conn in dropped:
            conn.abort()
        return len(dropped)

    def allow_connections(self) -> None:
        self._refuse_until = 0.0

    async def close_all(self) -> None:
        self._closing = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await asyncio.gather(*(_close(conn) for conn in list(self._connections)))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.refusing():
            return json_response({"message": "connection refused"}, status=503)
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        conn = _Connection(ws, request, self._max_queue)
        conn.sender = asyncio.create_task(_send_loop(conn))
        self._connections.add(conn)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    self._on_message(conn, msg.data)
        finally:
            self._connections.discard(conn)
            self._set_streams(conn, ())
            await _stop_sender(conn)
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    def _on_update(self, update: TradeUpdate) -> None:
        if self._listening.value == 0:
            return
        # Encode now: the frame is a snapshot of the order at the moment of the event.
        frame = dumps({"stream": TRADE_UPDATES, "data": update}).encode()
        if threading.get_ident() == self._loop_thread:
            self._fan_out(frame)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fan_out, frame)

    def _fan_out(self, frame: bytes) -> None:
        for conn in list(self._connections):
            if TRADE_UPDATES in conn.streams:
                conn.push(frame)

    def _on_message(self, conn: _Connection, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            _reply(conn, {"stream": "error", "data": {"error_message": "invalid syntax"}})
            return
        if not isinstance(message, dict):
            _reply(conn, {"stream": "error", "data": {"error_message": "invalid syntax"}})
            return
        action = message.get("action")
        data = message.get("data")
        payload: Mapping[str, object] = data if isinstance(data, dict) else {}
        if action == "authenticate":
            self._authenticate(conn, payload)
        elif action == "listen":
            self._listen(conn, payload)
        else:
            _reply(conn, {"stream": "error", "data": {"error_message": f"invalid action {action}"}})

    def _authenticate(self, conn: _Connection, data: Mapping[str, object]) -> None:
        key, secret = self._credentials()
        conn.authorized = data.get("key_id") == key and data.get("secret_key") == secret
        status = "authorized" if conn.authorized else "unauthorized"
        _reply(conn, _authorization(status, "authenticate"))

    def _listen(self, conn: _Connection, data: Mapping[str, object]) -> None:
        if not conn.authorized:
            _reply(conn, _authorization("unauthorized", "listen"))
            return
        requested = data.get("streams")
        names = requested if isinstance(requested, list) else []
        # The list replaces the previous set; an empty list stops the updates.
        self._set_streams(conn, tuple(name for name in names if name in KNOWN_STREAMS))
        _reply(conn, {"stream": "listening", "data": {"streams": list(conn.streams)}})

    def _set_streams(self, conn: _Connection, streams: tuple[str, ...]) -> None:
        was = TRADE_UPDATES in conn.streams
        conn.streams = streams
        now = TRADE_UPDATES in streams
        if was != now:
            self._listening.add(1 if now else -1)


def _authorization(status: str, action: str) -> dict[str, object]:
    return {"stream": "authorization", "data": {"status": status, "action": action}}


def _reply(conn: _Connection, message: Mapping[str, object]) -> None:
    conn.push(dumps(message).encode())


async def _send_loop(conn: _Connection) -> None:
    while True:
        frame = await conn.queue.get()
        await conn.ws.send_bytes(frame)


async def _close(conn: _Connection) -> None:
    await _stop_sender(conn)
    with contextlib.suppress(Exception):
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def _stop_sender(conn: _Connection) -> None:
    sender = conn.sender
    if sender is None:
        return
    conn.sender = None
    sender.cancel()
    await asyncio.wait({sender})
    if not sender.cancelled():
        sender.exception()  # retrieved: a failed send just ends this connection
