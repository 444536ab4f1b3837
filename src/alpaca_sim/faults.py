"""Faults on command: HTTP status/slow/hang rules, dropped streams, and the venue-side faults.

`FaultInjector` is the Python API in-process tests use (`sim.faults`); the control API's
POST /_sim/faults parses a spec (faultspec.py) into the same calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Literal, Protocol

from alpaca_sim.watch import CountWatch

if TYPE_CHECKING:
    from alpaca_sim.venue import Venue

Phase = Literal["before", "after"]

_MESSAGES = {429: "rate limit exceeded"}


def default_error_body(status: int) -> dict[str, object]:
    """Alpaca-shaped body: code is the status followed by 10000 (429 -> 42910000)."""
    message = _MESSAGES.get(status) or HTTPStatus(status).phrase.lower()
    return {"code": status * 100000 + 10000, "message": message}


class StreamControl(Protocol):
    def drop_all(self, refuse_seconds: float = 0.0) -> int: ...


@dataclass
class HttpFault:
    """One rule. `remaining=None` applies to every matching request until cleared.

    phase "before": the venue is not called (nothing committed). phase "after": the venue IS
    called (an order is committed) and the client gets the fault instead of the real answer.
    """

    method: str = "*"
    path: str = "*"
    status: int | None = None
    phase: Phase = "before"
    delay_ms: float = 0.0
    hang: bool = False
    remaining: int | None = 1
    body: object = None
    used: CountWatch = field(default_factory=CountWatch, compare=False, repr=False)
    """How many requests this rule has answered (tests wait on it: `FaultInjector.wait_used`)."""

    def matches(self, method: str, path: str) -> bool:
        method_ok = self.method == "*" or self.method.upper() == method.upper()
        return method_ok and fnmatch.fnmatchcase(path, self.path)

    def error_body(self) -> object:
        """JSON body for the fault status; a str body is sent as-is (e.g. an HTML gateway page)."""
        if self.body is not None:
            return self.body
        assert self.status is not None
        return default_error_body(self.status)

    def describe(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "phase": self.phase,
            "delay_ms": self.delay_ms,
            "hang": self.hang,
            "remaining": self.remaining,
        }


class FaultInjector:
    def __init__(self, venue: Venue, streams: StreamControl) -> None:
        self._venue = venue
        self._streams = streams
        self._rules: list[HttpFault] = []
        self._release: asyncio.Event | None = None
        self._closing = False
        self._stopping = asyncio.Event()
        self._held = CountWatch()

    # HTTP rules -----------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        count: int | None = 1,
        method: str = "*",
        path: str = "*",
        phase: Phase = "before",
        delay_ms: float = 0.0,
        body: object = None,
    ) -> HttpFault:
        if not 400 <= status <= 599 or status not in HTTPStatus.__members__.values():
            raise ValueError(f"fault status must be a known 4xx or 5xx status, got {status}")
        return self._add(HttpFault(method, path, status, phase, delay_ms, False, count, body))

    def slow(
        self, delay_ms: float, *, count: int | None = 1, method: str = "*", path: str = "*"
    ) -> HttpFault:
        if delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        return self._add(HttpFault(method, path, None, "before", delay_ms, False, count))

    def hang(
        self,
        *,
        count: int | None = 1,
        method: str = "*",
        path: str = "*",
        phase: Phase = "before",
    ) -> HttpFault:
        """Never answer matching requests until clear() or the client disconnects."""
        return self._add(HttpFault(method, path, None, phase, 0.0, True, count))

    def clear(self) -> None:
        """Remove every HTTP rule and release hung requests (they then complete normally)."""
        self._rules.clear()
        self._wake_hung()

    def take(self, method: str, path: str) -> HttpFault | None:
        """The first rule matching this request, consuming one of its uses."""
        for rule in self._rules:
            if rule.matches(method, path):
                rule.used.add(1)
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule
        return None

    async def delay(self, seconds: float) -> bool:
        """Sleep `seconds`. True when done; False if the server started shutting down meanwhile."""
        # asyncio.timeout rather than wait_for: no extra task per delayed request.
        with self._holding(), contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        return not self._closing

    async def hold(self) -> bool:
        """Wait for release. True: released by clear(); False: the server is shutting down."""
        if self._closing:
            return False
        if self._release is None:
            self._release = asyncio.Event()
        event = self._release
        with self._holding():
            await event.wait()
        return not self._closing

    async def wait_used(self, rule: HttpFault, count: int) -> None:
        """Wait until `rule` has answered `count` requests (bound it with a timeout)."""
        await rule.used.wait_at_least(count)

    @property
    def held_now(self) -> int:
        """Requests currently inside a delay or hang rule."""
        return self._held.value

    async def wait_held(self, count: int) -> None:
        """Wait until exactly `count` requests are delayed or hung (bound it with a timeout)."""
        await self._held.wait_for(count)

    @contextlib.contextmanager
    def _holding(self) -> Iterator[None]:
        self._held.add(1)
        try:
            yield
        finally:
            self._held.add(-1)

    def shutdown(self) -> None:
        self._closing = True
        self._stopping.set()
        self._wake_hung()

    def describe(self) -> list[dict[str, object]]:
        return [rule.describe() for rule in self._rules]

    # Streams and venue-side faults ------------------------------------------------------------
    def drop_streams(self, refuse_seconds: float = 0.0) -> int:
        """Drop every websocket now; refuse new ones for `refuse_seconds` (wall time)."""
        return self._streams.drop_all(refuse_seconds)

    def delay_acks(self, ack_ms: float, fill_ms: float = 0.0) -> None:
        self._venue.set_latency(ack_ms=ack_ms, fill_ms=fill_ms)

    def reject_next_order(self, status: int, code: int | None, message: str) -> None:
        self._venue.reject_next_order(status, code, message)

    def race_fill_on_next_cancel(self, symbol: str | None = None) -> None:
        self._venue.race_fill_on_next_cancel(symbol)

    def cancel_next_orders(self, symbol: str | None = None, count: int = 1) -> None:
        self._venue.cancel_next_orders(symbol, count)

    def omit_price_on_next_fill(self, symbol: str | None = None, reads: int = 0) -> None:
        self._venue.omit_price_on_next_fill(symbol, reads)

    def partial_fill_next(self, symbol: str, qty: str, count: int = 1) -> None:
        """The next `count` fills on `symbol` take at most `qty` shares each (Venue says more)."""
        self._venue.partial_fill_next(symbol, qty, count)

    def halt(self, symbol: str, halted: bool = True) -> None:
        self._venue.set_halted(symbol, halted)

    def script_quote(
        self,
        symbol: str,
        *,
        bid: str | None,
        ask: str | None,
        bid_size: str | None = None,
        ask_size: str | None = None,
        age_seconds: float = 0.0,
        hold: bool = True,
    ) -> None:
        """Stale (age_seconds), crossed (bid > ask), one-sided (None) or zero ("0") quotes."""
        self._venue.script_quote(
            symbol,
            bid=bid,
            ask=ask,
            bid_size=bid_size,
            ask_size=ask_size,
            age_seconds=age_seconds,
            hold=hold,
        )

    def clear_quote(self, symbol: str) -> None:
        self._venue.clear_scripted_quote(symbol)

    def _add(self, rule: HttpFault) -> HttpFault:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("count must be >= 1 (or None for every request)")
        self._rules.append(rule)
        return rule

    def _wake_hung(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None
