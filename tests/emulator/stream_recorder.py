"""A recorder of the real alpaca-py TradingStream's trade updates from a SimServer.

TradingStream runs its own event loop in a thread (`run()`). Its stop() only takes effect when
its receive loop wakes (a 5 s poll), so the recorder drops the sim's connections right after
stop() to make it exit at once.
"""

from __future__ import annotations

import asyncio
import queue
import threading

from alpaca.trading.models import TradeUpdate
from alpaca.trading.stream import TradingStream

from alpaca_sim.server import SimServer

WAIT_SECONDS = 30.0
"""Hang guard: what is awaited happens within milliseconds (a stopping stream thread: ~1 s)."""


class StreamRecorder:
    def __init__(self, sim: SimServer) -> None:
        self._sim = sim
        self.stream = TradingStream(sim.api_key, sim.api_secret, url_override=sim.stream_url)
        self.updates: queue.Queue[TradeUpdate] = queue.Queue()
        self.stream.subscribe_trade_updates(self._record)
        self._thread = threading.Thread(target=self.stream.run, daemon=True)

    async def _record(self, update: TradeUpdate) -> None:
        self.updates.put(update)

    async def start(self) -> None:
        self._thread.start()
        async with asyncio.timeout(WAIT_SECONDS):
            await self._sim.hub.wait_listening(1)

    async def next(self) -> TradeUpdate:
        return await asyncio.to_thread(self.updates.get, timeout=WAIT_SECONDS)

    async def until(self, event: str) -> list[TradeUpdate]:
        """Updates up to and including the first `event`."""
        seen: list[TradeUpdate] = []
        while not seen or seen[-1].event != event:
            seen.append(await self.next())
        return seen

    async def stop(self) -> None:
        await asyncio.to_thread(self.stream.stop)
        self._sim.faults.drop_streams()
        await asyncio.to_thread(self._thread.join, WAIT_SECONDS)
        assert not self._thread.is_alive()
