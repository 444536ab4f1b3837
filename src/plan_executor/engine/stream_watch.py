"""Which orders the trade stream owes news about, and since when it has said nothing.

Alpaca sends `new` for every order it accepts, and `canceled` (or the fill that won the race)
for every cancel it takes; an order that went terminal without our hearing it also owes its
terminal event. So once the broker has answered a request about an order (its submission, a
cancel), the stream owes news about it: any event for that order after the request settles
the debt. A debt unpaid for `silence_s` makes the order overdue; the tracker then reads it by
REST (docs/design.md 2.7). If the stream said nothing at all, about any order, since the
oldest overdue debt arose, the socket itself is presumed silent (alpaca-py #740: a socket
"connected-but-mute"; Lean.Brokerages.Alpaca #28: fill events that never came).

Pure bookkeeping on the caller's clock (seconds, the event loop's time); no I/O.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

NEVER = -math.inf


@dataclass(slots=True)
class _Debt:
    asked_at: float
    """When the request that made the stream owe news was sent."""
    due_at: float
    """When the news is overdue."""


@dataclass(slots=True)
class StreamWatch:
    silence_s: float
    _asked: dict[str, float] = field(default_factory=dict)
    _debts: dict[str, _Debt] = field(default_factory=dict)
    _heard: dict[str, float] = field(default_factory=dict)
    last_heard: float = NEVER
    """When the stream last delivered an event (about any order)."""

    def asking(self, cid: str, now: float) -> None:
        """A request about `cid` is about to be sent."""
        self._asked[cid] = now

    def answered(self, cid: str, now: float) -> None:
        """The broker took the request about `cid`: news is owed unless heard since it was
        sent (the stream may be faster than the REST answer)."""
        asked = self._asked.get(cid, now)
        if self._heard.get(cid, NEVER) >= asked or cid in self._debts:
            return
        self._debts[cid] = _Debt(asked_at=asked, due_at=now + self.silence_s)

    def heard(self, cid: str, now: float) -> None:
        """The stream delivered an event about `cid`."""
        self._heard[cid] = now
        self.last_heard = now
        self._debts.pop(cid, None)

    def overdue(self, now: float, is_open: Callable[[str], bool]) -> list[str]:
        """Orders whose news is overdue and that are still open as far as we know (an order
        REST has shown terminal needs no news any more: its debt is dropped)."""
        for cid in [cid for cid in self._debts if not is_open(cid)]:
            del self._debts[cid]
        return [cid for cid, debt in self._debts.items() if now >= debt.due_at]

    def mute_since(self, cids: Iterable[str]) -> float | None:
        """When the debts of `cids` began, if the stream has said nothing at all since the
        oldest of them; None when it has spoken meanwhile (then only those events are
        missing, not the whole stream)."""
        asked = [self._debts[cid].asked_at for cid in cids if cid in self._debts]
        if not asked or self.last_heard >= min(asked):
            return None
        return min(asked)

    def settled(self, cids: Iterable[str]) -> None:
        """REST has answered for `cids`: they owe nothing any more."""
        for cid in cids:
            self._debts.pop(cid, None)
