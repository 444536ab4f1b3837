"""Single-symbol quote reads from many items, coalesced into batch calls.

Every smart order re-reads its own symbol's quote (step ends, peg checks). Reads that arrive
within `window` of each other, or while a batch call is under way, share the next batch call:
N items checking their price cost about one request, not N. Each reader still gets only its
own symbol's quote and checks it itself.
"""

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from plan_executor.domain.quotes import Quote
from plan_executor.ports import Broker, BrokerError

MAX_SYMBOLS_PER_CALL = 200
"""Symbols per batch call (keeps the request's query string short)."""

Read = Quote | str
"""A quote, or why none was read."""


class QuoteBatcher:
    def __init__(self, broker: Broker, *, window: timedelta) -> None:
        self._broker = broker
        self._window_s = window.total_seconds()
        self._waiting: dict[str, list[asyncio.Future[Read]]] = {}
        self._sender: asyncio.Task[None] | None = None

    async def read(self, symbol: str) -> Read:
        """`symbol`'s latest quote from the next batch call, or why there is none."""
        answer: asyncio.Future[Read] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(symbol, []).append(answer)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_while_waiting())
        return await answer

    async def _send_while_waiting(self) -> None:
        """Reads that arrive while a call is under way go out in the next one."""
        while self._waiting:
            if self._window_s > 0:
                await asyncio.sleep(self._window_s)
            waiting, self._waiting = self._waiting, {}
            symbols = list(waiting)
            for start in range(0, len(symbols), MAX_SYMBOLS_PER_CALL):
                chunk = symbols[start : start + MAX_SYMBOLS_PER_CALL]
                await self._answer(chunk, waiting)

    async def _answer(
        self, symbols: Sequence[str], waiting: dict[str, list[asyncio.Future[Read]]]
    ) -> None:
        try:
            quotes = await self._broker.latest_quotes(symbols)
        except BrokerError as error:
            for symbol in symbols:
                _settle(waiting[symbol], f"quote read failed ({error})")
            return
        except Exception as error:  # an unexpected failure reaches every reader, as it would
            for symbol in symbols:
                _settle(waiting[symbol], error)
            return
        for symbol in symbols:
            _settle(waiting[symbol], quotes.get(symbol) or "no quote returned")


def _settle(answers: list[asyncio.Future[Read]], outcome: Read | Exception) -> None:
    """Each reader's answer: the read, or the unexpected failure raised to it."""
    for answer in answers:
        if answer.done():  # a reader cancelled meanwhile (the deadline) wants nothing
            continue
        if isinstance(outcome, Exception):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)
