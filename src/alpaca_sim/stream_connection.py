"""One websocket connection of the trade stream: its queue, its single sender, and how a
silenced connection behaves (stream.py's module docstring has the sources)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiohttp import WSCloseCode, web


@dataclass(frozen=True)
class Silence:
    """How a silenced connection behaves (stream.py's module docstring has the readings)."""

    answer_pings: bool = True
    keep_backlog: bool = False


@dataclass(frozen=True)
class CloseFrame:
    """Queued after the frames that must go first: the sender then closes the connection."""

    message: bytes


Frame = bytes | CloseFrame


class Connection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_queue: int) -> None:
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=max_queue)
        self.authorized = False
        self.streams: tuple[str, ...] = ()
        self.sender: asyncio.Task[None] | None = None
        self.silence: Silence | None = None
        self.speaking = asyncio.Event()
        self.speaking.set()

    def push(self, frame: Frame) -> None:
        silence = self.silence
        if silence is not None and not silence.keep_backlog and isinstance(frame, bytes):
            return  # swallowed: the client never hears of it
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.abort()  # a consumer this far behind is cut off, as a real server would

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def silence_now(self, silence: Silence) -> None:
        self.silence = silence
        self.speaking.clear()

    def speak_again(self) -> None:
        self.silence = None
        self.speaking.set()

    @property
    def answers_pings(self) -> bool:
        return self.silence is None or self.silence.answer_pings


async def send_loop(conn: Connection) -> None:
    while True:
        frame = await conn.queue.get()
        if isinstance(frame, CloseFrame):
            await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=frame.message)
            return
        await conn.speaking.wait()  # a stalled connection sends nothing until it resumes
        await conn.ws.send_bytes(frame)


async def close_connection(conn: Connection) -> None:
    await stop_sender(conn)
    with contextlib.suppress(Exception):
        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def stop_sender(conn: Connection) -> None:
    sender = conn.sender
    if sender is None:
        return
    conn.sender = None
    sender.cancel()
    await asyncio.wait({sender})
    if not sender.cancelled():
        sender.exception()  # retrieved: a failed send just ends this connection
