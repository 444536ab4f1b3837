"""Fault `late_events`: trade updates that arrive after REST already shows the order terminal.

Sources: QuantConnect Lean.Brokerages.Alpaca #28 ("Missing Market Order Fill Event", 2025):
Alpaca acknowledged market orders whose fill event then did not come within 5 s, or 30 s; the
remedy proposed there, and ours, is to read the order by REST. The stream and REST are separate
channels with no ordering between them, and the stream does not replay (Alpaca's streaming
docs), so an event that was only late reaches a client that has already read the order
terminal by REST.

How it is simulated: once armed, the next `count` orders (of `symbol`, or any) to produce a
terminal update (fill, canceled, expired, rejected, replaced) have that update, and every later
one for the same order, held back. They are sent, in order, to whoever listens then:
- release "rest": as soon as a REST answer (a read, a listing, a submit or replace answer) has
  shown the order terminal: the server-side order of events is then exactly "REST terminal,
  then the event";
- release "manual": when the test (or the control API) says so, e.g. once the client has
  recorded the REST view (a client reads REST on another connection and thread, so only it
  knows when it has applied the answer).
Clearing the faults releases whatever is still held (late, never lost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from alpaca_sim.watch import CountWatch

Release = Literal["rest", "manual"]
RELEASES: frozenset[str] = frozenset({"rest", "manual"})
TERMINAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "replaced"})


@dataclass
class _Armed:
    symbol: str | None
    remaining: int
    release: Release


class LateEvents:
    def __init__(self) -> None:
        self._armed: _Armed | None = None
        self._held: dict[str, list[bytes]] = {}
        self.held = CountWatch()
        """Frames held back so far (tests wait on it)."""
        self.released = CountWatch()
        """Held frames sent so far."""

    @property
    def holding(self) -> int:
        return sum(len(frames) for frames in self._held.values())

    def arm(self, symbol: str | None, count: int, release: Release) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        if release not in RELEASES:
            raise ValueError(f"release must be one of {sorted(RELEASES)}, got {release!r}")
        self._armed = _Armed(symbol, count, release)

    def hold(self, update: Mapping[str, object], frame: bytes) -> bool:
        """True when `frame` (the encoded `update`) is held back instead of sent now."""
        order = update.get("order")
        if not isinstance(order, Mapping):
            return False
        order_id = str(order.get("id"))
        if order_id in self._held:
            self._keep(order_id, frame)
            return True
        armed = self._armed
        if armed is None or armed.remaining <= 0 or order.get("status") not in TERMINAL_STATUSES:
            return False
        if armed.symbol is not None and order.get("symbol") != armed.symbol:
            return False
        armed.remaining -= 1
        self._held[order_id] = []
        self._keep(order_id, frame)
        return True

    def shown(self, views: Iterable[object]) -> list[bytes]:
        """Frames due now that REST answered with `views` (orders as JSON objects)."""
        if self._armed is not None and self._armed.release != "rest":
            return []
        due: list[bytes] = []
        for view in views:
            if isinstance(view, Mapping) and view.get("status") in TERMINAL_STATUSES:
                due.extend(self._take(str(view.get("id"))))
        return due

    def release_all(self) -> list[bytes]:
        """Every held frame, order by order, each order's in the order they were produced."""
        due: list[bytes] = []
        for order_id in list(self._held):
            due.extend(self._take(order_id))
        return due

    def disarm(self) -> list[bytes]:
        """Stop holding; what is held is due now."""
        self._armed = None
        return self.release_all()

    def _keep(self, order_id: str, frame: bytes) -> None:
        self._held[order_id].append(frame)
        self.held.add(1)

    def _take(self, order_id: str) -> list[bytes]:
        frames = self._held.pop(order_id, [])
        if frames:
            self.released.add(len(frames))
        return frames
