"""A tiny scripted market for the engine's fakes: one book per symbol, moved by the test.

`set_quote` moves a book (resting orders at the fake broker are re-matched); `script` queues
books that successive quote reads step through, e.g. a crossed quote, then a good one.
"""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from plan_executor.domain.money import Price, Shares
from plan_executor.domain.quotes import Quote


class FakeClock:
    """Wall time that starts at `start` and moves with real time (asyncio timeouts are real),
    plus whatever the test adds with `advance`."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._started = time.monotonic()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


@dataclass(frozen=True)
class Book:
    bid: Decimal
    ask: Decimal
    bid_size: Decimal = Decimal(1000)
    ask_size: Decimal = Decimal(1000)
    at: datetime | None = None
    """None: stamped at read time (always fresh)."""


class FakeMarket:
    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._books: dict[str, Book] = {}
        self._scripts: dict[str, deque[Book]] = {}
        self._listeners: list[Callable[[str], None]] = []
        self.reads: list[str] = []

    def on_move(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def set_quote(
        self,
        symbol: str,
        bid: str | Decimal,
        ask: str | Decimal,
        *,
        bid_size: str | int = 1000,
        ask_size: str | int = 1000,
        at: datetime | None = None,
    ) -> None:
        self._move(
            symbol, Book(Decimal(bid), Decimal(ask), Decimal(bid_size), Decimal(ask_size), at)
        )

    def script(self, symbol: str, *books: Book) -> None:
        """Successive reads of `symbol` return these books in turn (then the last stays)."""
        self._scripts.setdefault(symbol, deque()).extend(books)

    def book(self, symbol: str) -> Book | None:
        return self._books.get(symbol)

    def read(self, symbol: str) -> Quote | None:
        """A quote read: steps the script, if any, and stamps fresh books with now."""
        self.reads.append(symbol)
        script = self._scripts.get(symbol)
        if script:
            self._move(symbol, script.popleft())
        book = self._books.get(symbol)
        if book is None:
            return None
        return Quote(
            symbol=symbol,
            bid=Price(book.bid),
            ask=Price(book.ask),
            bid_size=Shares(book.bid_size),
            ask_size=Shares(book.ask_size),
            at=book.at or self._clock.now(),
        )

    def _move(self, symbol: str, book: Book) -> None:
        self._books[symbol] = book
        for listener in self._listeners:
            listener(symbol)
