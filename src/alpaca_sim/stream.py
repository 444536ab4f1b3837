"""The trade_updates websocket at /stream (Alpaca paper protocol, binary frames of JSON).

One StreamHub listens to the venue; each connection gets its own queue and a single sender task,
so protocol replies and trade updates leave in exactly the order they were produced.

Faults of the stream itself (armed through `FaultInjector`, the control API's kinds in
faultspec.py):
- one connection per key, with a second one refused or the first one closed
  (`stream_limit.py` has the sources and the readings);
- silence: a connection stays open and sends nothing, neither updates nor replies, and never
  closes (alpaca-py #740, July 2026: Alpaca's data socket "silently stops delivering data
  while connected", no disconnect, no exception, for hours; Lean.Brokerages.Alpaca #28:
  trade_updates fill events that never came). Whether pings are still answered is not known; the
  default is that they are (the harder case for a client: its websocket keepalive sees a
  healthy socket), `answer_pings=False` the other reading. What the silence swallows is lost,
  or, with `keep_backlog`, sent when the silence ends (a stalled socket that resumes);
- late events (`late_events.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from alpaca_sim.httpio import dumps, json_response
from alpaca_sim.late_events import LateEvents, Release
from alpaca_sim.stream_connection import (
    CloseFrame,
    Connection,
    Silence,
    close_connection,
    send_loop,
    stop_sender,
)
from alpaca_sim.stream_limit import (
    DEFAULT_CONNECTION_LIMIT,
    HANDSHAKE_REFUSAL_BODY,
    LIMIT_MESSAGE,
    REPLACED_MESSAGE,
    ConnectionLimit,
)
from alpaca_sim.watch import CountWatch

if TYPE_CHECKING:
    from alpaca_sim.venue import TradeUpdate, Venue

TRADE_UPDATES = "trade_updates"
KNOWN_STREAMS = frozenset({TRADE_UPDATES})
Credentials = Callable[[], tuple[str, str]]


class StreamHub:
    def __init__(
        self,
        venue: Venue,
        credentials: Credentials,
        *,
        wall: Callable[[], float] = time.monotonic,
        max_queue: int = 10_000,
        limit: ConnectionLimit = DEFAULT_CONNECTION_LIMIT,
    ) -> None:
        self._venue = venue
        self._credentials = credentials
        self._wall = wall
        self._max_queue = max_queue
        self._connections: set[Connection] = set()
        self._refuse_until = 0.0
        self.limit = limit
        self._holder: Connection | None = None
        """The connection that holds the key's one slot (the last one authorized)."""
        self._silence_new: Silence | None = None
        self.late = LateEvents()
        self.refused = CountWatch()
        """Connections refused by the connection limit (at the handshake or authentication)."""
        self.replaced = CountWatch()
        """Connections closed because a newer one authenticated (CLOSE_OLDER)."""
        self.listens = CountWatch()
        """Times a connection started listening to trade_updates (a reconnect counts again)."""
        self.pings_ignored = CountWatch()
        """Pings a silenced connection left unanswered (`Silence.answer_pings` False)."""
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
        self._holder = None  # the connections are gone now, whenever their handlers notice
        return len(dropped)

    def allow_connections(self) -> None:
        self._refuse_until = 0.0

    def reset(self, limit: ConnectionLimit) -> None:
        """A fresh scenario: its connection limit, and no stream fault left."""
        self.limit = limit
        self.clear_faults()

    def clear_faults(self) -> None:
        """Accept connections, end every silence, send what late events still hold."""
        self.allow_connections()
        self.end_silence()
        self._fan_out_all(self.late.disarm())

    # Silence ------------------------------------------------------------------------------
    def silence(self, silence: Silence, *, new_connections: bool = False) -> int:
        """Silence every open connection (and, with `new_connections`, every later one until
        `end_silence`). Returns how many were open."""
        self._silence_new = silence if new_connections else None
        for conn in self._connections:
            conn.silence_now(silence)
        return len(self._connections)

    def end_silence(self) -> int:
        """Every silenced connection speaks again; returns how many were silent."""
        self._silence_new = None
        silent = [conn for conn in self._connections if conn.silence is not None]
        for conn in silent:
            conn.speak_again()
        return len(silent)

    @property
    def silent_count(self) -> int:
        return sum(1 for conn in self._connections if conn.silence is not None)

    # Late events --------------------------------------------------------------------------
    def late_events(self, symbol: str | None, count: int, release: Release) -> None:
        self.late.arm(symbol, count, release)

    def release_late_events(self) -> int:
        frames = self.late.release_all()
        self._fan_out_all(frames)
        return len(frames)

    def rest_shown(self, views: Iterable[object]) -> None:
        """A REST answer showed these orders (JSON objects): late events due now go out."""
        self._fan_out_all(self.late.shown(views))

    async def close_all(self) -> None:
        self._closing = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await asyncio.gather(*(close_connection(conn) for conn in list(self._connections)))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.refusing():
            return json_response({"message": "connection refused"}, status=503)
        if self.limit is ConnectionLimit.REFUSE_HANDSHAKE and self._holder is not None:
            self.refused.add(1)
            return json_response(HANDSHAKE_REFUSAL_BODY, status=429)
        # Pings are answered here, not by aiohttp, so that a silenced connection can ignore them.
        ws = web.WebSocketResponse(timeout=2.0, autoping=False)
        await ws.prepare(request)
        conn = Connection(ws, request, self._max_queue)
        if self._silence_new is not None:
            conn.silence_now(self._silence_new)
        conn.sender = asyncio.create_task(send_loop(conn))
        self._connections.add(conn)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    self._on_message(conn, msg.data)
                elif msg.type is WSMsgType.PING:
                    await self._on_ping(conn, msg.data)
        finally:
            self._connections.discard(conn)
            if self._holder is conn:
                self._holder = None
            self._set_streams(conn, ())
            await stop_sender(conn)
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    async def _on_ping(self, conn: Connection, payload: bytes) -> None:
        if conn.answers_pings:
            await conn.ws.pong(payload)
        else:
            self.pings_ignored.add(1)

    def _on_update(self, update: TradeUpdate) -> None:
        # Encode now: the frame is a snapshot of the order at the moment of the event.
        frame = dumps({"stream": TRADE_UPDATES, "data": update}).encode()
        if threading.get_ident() == self._loop_thread:
            self._deliver(update, frame)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, update, frame)

    def _deliver(self, update: TradeUpdate, frame: bytes) -> None:
        if not self.late.hold(update, frame) and self._listening.value > 0:
            self._fan_out(frame)

    def _fan_out_all(self, frames: list[bytes]) -> None:
        for frame in frames:
            self._fan_out(frame)

    def _fan_out(self, frame: bytes) -> None:
        for conn in list(self._connections):
            if TRADE_UPDATES in conn.streams:
                conn.push(frame)

    def _on_message(self, conn: Connection, raw: str | bytes) -> None:
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

    def _authenticate(self, conn: Connection, data: Mapping[str, object]) -> None:
        key, secret = self._credentials()
        if data.get("key_id") != key or data.get("secret_key") != secret:
            conn.authorized = False
            _reply(conn, _authorization("unauthorized", "authenticate"))
            return
        holder = self._holder
        if holder is not None and holder is not conn and self.limit is not ConnectionLimit.NONE:
            if self.limit is not ConnectionLimit.CLOSE_OLDER:
                # REFUSE_AUTH, and REFUSE_HANDSHAKE for a connection that was already open
                # when the slot was taken: refused, then closed.
                self.refused.add(1)
                _reply(conn, _authorization("unauthorized", "authenticate", LIMIT_MESSAGE))
                conn.push(CloseFrame(LIMIT_MESSAGE.encode()))
                return
            self._replace(holder)
        conn.authorized = True
        self._holder = conn
        _reply(conn, _authorization("authorized", "authenticate"))

    def _replace(self, older: Connection) -> None:
        """CLOSE_OLDER: the older connection hears nothing more and is closed by the server."""
        self.replaced.add(1)
        older.authorized = False
        self._set_streams(older, ())
        if older.silence is not None:
            older.abort()  # its sender may be holding a backlog: no close frame gets through
        else:
            older.push(CloseFrame(REPLACED_MESSAGE))

    def _listen(self, conn: Connection, data: Mapping[str, object]) -> None:
        if not conn.authorized:
            _reply(conn, _authorization("unauthorized", "listen"))
            return
        requested = data.get("streams")
        names = requested if isinstance(requested, list) else []
        # The list replaces the previous set; an empty list stops the updates.
        self._set_streams(conn, tuple(name for name in names if name in KNOWN_STREAMS))
        _reply(conn, {"stream": "listening", "data": {"streams": list(conn.streams)}})

    def _set_streams(self, conn: Connection, streams: tuple[str, ...]) -> None:
        was = TRADE_UPDATES in conn.streams
        conn.streams = streams
        now = TRADE_UPDATES in streams
        if was != now:
            self._listening.add(1 if now else -1)
        if now and not was:
            self.listens.add(1)


def _authorization(status: str, action: str, message: str | None = None) -> dict[str, object]:
    data = {"status": status, "action": action}
    if message is not None:
        data["message"] = message
    return {"stream": "authorization", "data": data}


def _reply(conn: Connection, message: Mapping[str, object]) -> None:
    conn.push(dumps(message).encode())
