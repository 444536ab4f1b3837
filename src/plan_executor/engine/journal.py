"""What an execution has done so far, kept outside the coroutine the deadline cancels.

Each item's run is written only by the coroutine working that item; the result and the ledger
are built from the journal and the tracker whether the execution finished, failed or timed out.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from plan_executor.domain.enums import Action, Side
from plan_executor.domain.execution_choice import ExecutionChoice
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.ledger import MAX_QUOTES_PER_ORDER, CancelReason
from plan_executor.domain.money import Shares
from plan_executor.domain.order_ids import client_order_id, next_sequence, short_plan_hash
from plan_executor.domain.outcome import ItemEnding
from plan_executor.domain.plan import PlanItem, RebalancePlan
from plan_executor.domain.quotes import Quote
from plan_executor.ports import BrokerOrder

_SIDE_OF_ACTION = {Action.BUY: Side.BUY, Action.SELL: Side.SELL}


@dataclass(slots=True)
class ItemRun:
    """One plan item's execution record."""

    item: PlanItem
    earlier_ids: list[str] = field(default_factory=list)
    """Orders an earlier attempt of this plan placed for the item (found at reconcile)."""
    child_ids: list[str] = field(default_factory=list)
    """Orders this attempt placed, in order."""
    planned_qty: Shares | None = None
    """For share-sized sells: the quantity the item is complete at (earlier fills included)."""
    arrival: Quote | None = None
    execution: ExecutionChoice | None = None
    """Walk or marketable, and why; None until the item's first order is about to be sized."""
    repegs: int = 0
    market_fallback: bool = False
    ending: ItemEnding | None = None
    """None while the item is still being worked."""
    ending_reason: str | None = None
    """What the first ending was told: how the engine saw the item end."""
    notes: list[str] = field(default_factory=list)
    """What happened on the way (a reduced grant, an unfilled market order), in order. These
    and `ending_reason` are what was told; the result's reason is judged from them and the
    final state (`engine/reporting.py`), so a step a later fill overtook is never reported."""
    quotes_seen: dict[str, list[Quote]] = field(default_factory=dict)
    """Usable quotes read while each child was the item's latest, for the ledger's chart data."""

    @property
    def symbol(self) -> str:
        return self.item.symbol

    @property
    def side(self) -> Side | None:
        """None for a HOLD."""
        return _SIDE_OF_ACTION.get(self.item.action)

    @property
    def all_ids(self) -> list[str]:
        return [*self.earlier_ids, *self.child_ids]

    @property
    def reason(self) -> str | None:
        """Everything told, unjudged: the ending's reason, then the notes."""
        told = [self.ending_reason] if self.ending_reason else []
        return "; ".join([*told, *self.notes]) or None

    def end(self, ending: ItemEnding, reason: str | None = None) -> None:
        """Record how the item ended; the first ending stands."""
        if self.ending is None:
            self.ending = ending
            self.ending_reason = reason

    def saw_quote(self, quote: Quote) -> None:
        """Keep `quote` against the latest child (none yet: the arrival quote covers it),
        bounded: the first sample stays, the oldest after it makes room."""
        if not self.child_ids:
            return
        samples = self.quotes_seen.setdefault(self.child_ids[-1], [])
        if samples and samples[-1] == quote:
            return
        if len(samples) >= MAX_QUOTES_PER_ORDER:
            del samples[1]
        samples.append(quote)

    def note(self, reason: str) -> None:
        """Record something that happened to the item without ending it."""
        if reason not in self.notes:
            self.notes.append(reason)


@dataclass(slots=True)
class CancellationRecord:
    """A cancel this service asked for; completed when the broker confirmed a terminal state."""

    client_order_id: str
    symbol: str
    side: Side
    reason: CancelReason
    requested_at: datetime
    confirmed_at: datetime | None = None


class ExecutionJournal:
    """The items, cancellations and in-flight submissions of one execution attempt."""

    def __init__(self, plan: RebalancePlan, plan_hash: str, started_at: datetime) -> None:
        self.plan = plan
        self.plan_hash = plan_hash
        self.started_at = started_at
        self.items = [ItemRun(item) for item in plan.items]
        self.cancellations: list[CancellationRecord] = []
        self.inflight: set[asyncio.Task[BrokerOrder]] = set()
        """Submissions still awaiting the broker's answer; shielded from the deadline so the
        cleanup can learn their outcome before it cancels."""
        self.unknown_outcomes: set[str] = set()
        """Submissions answered by neither an order nor a refusal (timeout, 5xx, cut off),
        however a lookup settled them later: the cleanup lists the broker's orders then."""

    @classmethod
    def for_plan(cls, plan: RebalancePlan, started_at: datetime) -> "ExecutionJournal":
        """The journal of an attempt at `plan`, its orders named by the plan's hash."""
        return cls(plan, short_plan_hash(plan_fingerprint(plan)), started_at)

    def runs_for(self, action: Action) -> list[ItemRun]:
        return [run for run in self.items if run.item.action is action]

    def skip_holds(self) -> None:
        """A HOLD sends nothing: it ends SKIPPED (the result gives the hold's reason)."""
        for run in self.runs_for(Action.HOLD):
            run.end(ItemEnding.SKIPPED)

    def run_for(self, symbol: str, side: Side) -> ItemRun | None:
        return next((run for run in self.items if run.symbol == symbol and run.side == side), None)

    def arrival_of(self, client_order_id: str) -> Quote | None:
        run = next((run for run in self.items if client_order_id in run.all_ids), None)
        return run.arrival if run else None


class OrderIdAllocator:
    """Deterministic client order ids; `n` continues after the highest the broker has."""

    def __init__(self, plan_hash: str, existing_ids: Iterable[str]) -> None:
        self._plan_hash = plan_hash
        self._existing = tuple(existing_ids)
        self._next: dict[tuple[str, Side], int] = {}

    def next_id(self, symbol: str, side: Side) -> str:
        key = (symbol, side)
        if key not in self._next:
            self._next[key] = next_sequence(self._existing, symbol, side, plan_hash=self._plan_hash)
        sequence = self._next[key]
        self._next[key] = sequence + 1
        return client_order_id(self._plan_hash, symbol, side, sequence)
