"""Stream clients for the emulator tests: the real alpaca-py TradingStream in a thread of its
own (as `run()` runs it), and aiohttp's websocket client for the frames themselves.

TradingStream's stop() only takes effect when its receive loop wakes (a 5 s poll), so the
recorder drops the sim's connections right after stop() to make it exit at once.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from typing import Any

import aiohttp
from alpaca.trading.models import TradeUpdate
from alpaca.trading.stream import TradingStream

from alpaca_sim.server import SimServer

WAIT_SECONDS = 30.0
"""Hang guard: what is awaited happens within milliseconds (a stopping stream thread: ~1 s)."""
RETRY_BACKOFF_S = (0.05, 0.2)
"""alpaca-py's reconnect backoff (min, max) for streams that are expected to be refused: its
production default starts at 1 s."""


class StreamRecorder:
    def __init__(self, sim: SimServer, *, backoff_s: tuple[float, float] | None = None) -> None:
        self._sim = sim
        self.stream = TradingStream(sim.api_key, sim.api_secret, url_override=sim.stream_url)
        if backoff_s is not None:
            self.stream._reconnect_min_backoff, self.stream._reconnect_max_backoff = backoff_s
        self.updates: queue.Queue[TradeUpdate] = queue.Queue()
        self.stream.subscribe_trade_updates(self._record)
        self._thread = threading.Thread(target=self.stream.run, daemon=True)

    async def _record(self, update: TradeUpdate) -> None:
        self.updates.put(update)

    async def start(self, *, listening: int | None = 1) -> None:
        """Start the stream's thread; then wait until `listening` connections listen at the
        sim (None: do not wait, e.g. for a stream that is to be refused)."""
        self._thread.start()
        if listening is not None:
            async with asyncio.timeout(WAIT_SECONDS):
                await self._sim.hub.wait_listening(listening)

    async def next(self) -> TradeUpdate:
        return await asyncio.to_thread(self.updates.get, timeout=WAIT_SECONDS)

    async def until(self, event: str) -> list[TradeUpdate]:
        """Updates up to and including the first `event`."""
        seen: list[TradeUpdate] = []
        while not seen or seen[-1].event != event:
            seen.append(await self.next())
        return seen

    def websocket(self) -> object:
        """The stream's current websocket object (a reconnect replaces it)."""
        return self.stream._ws

    async def stop(self) -> None:
        if self._thread.is_alive() and self.stream._loop is not None:
            await asyncio.to_thread(self.stream.stop)
        self._sim.faults.drop_streams()
        await asyncio.to_thread(self._thread.join, WAIT_SECONDS)
        assert not self._thread.is_alive()


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await ws.receive(timeout=WAIT_SECONDS)
    assert message.type == aiohttp.WSMsgType.BINARY, message
    decoded: dict[str, Any] = json.loads(message.data)
    return decoded


async def authenticate(ws: aiohttp.ClientWebSocketResponse, sim: SimServer) -> dict[str, Any]:
    await ws.send_json(
        {"action": "authenticate", "data": {"key_id": sim.api_key, "secret_key": sim.api_secret}}
    )
    return await receive(ws)


async def listen(ws: aiohttp.ClientWebSocketResponse, streams: list[str]) -> dict[str, Any]:
    await ws.send_json({"action": "listen", "data": {"streams": streams}})
    return await receive(ws)
