"""How an item and a whole plan ended, from what was planned, what filled and what happened.

REJECTED is decided before any order is sent (guard rails, validation) and never here. An
item's reason is decided here too, by one rule (`item_reason`), so that it describes the final
state whoever told the engine what along the way.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from plan_executor.domain.enums import ExecutionStatus, ItemStatus
from plan_executor.domain.money import CENT, QTY_QUANTUM, Dollars, Shares

EARLIER_ATTEMPT_REASON = "completed by an earlier attempt"
"""A FILLED item whose every fill is an earlier attempt's (found at the reconcile)."""


class ItemEnding(StrEnum):
    """What happened to an item, apart from its fills."""

    WORKED = "worked"
    """Its orders ran their course (filled, or the walk ended without a market fallback)."""
    SKIPPED = "skipped"
    """No order was sent: sizing or allocation said no (the skip reason is reported)."""
    ERRORED = "errored"
    """The broker refused an order or an error stopped the item."""
    CANCELED = "canceled"
    """Its orders were cancelled before completing (deadline, broker cancel or expiry)."""


@dataclass(frozen=True, slots=True)
class ItemProgress:
    """Planned against filled for one item. `planned_qty` is the sized quantity when it was
    known (share-sized sells, full exits); completion is then judged in shares."""

    ending: ItemEnding
    planned_notional: Dollars
    filled_notional: Dollars
    filled_qty: Shares
    planned_qty: Shares | None = None

    @property
    def is_complete(self) -> bool:
        """Filled to within one share quantum of the planned quantity, or one cent of the
        planned notional."""
        if self.planned_qty is not None and self.planned_qty > 0:
            return self.filled_qty >= self.planned_qty - QTY_QUANTUM
        return self.planned_notional > 0 and self.filled_notional >= self.planned_notional - CENT


_UNFILLED_STATUS = {
    ItemEnding.WORKED: ItemStatus.FAILED,
    ItemEnding.SKIPPED: ItemStatus.SKIPPED,
    ItemEnding.ERRORED: ItemStatus.FAILED,
    ItemEnding.CANCELED: ItemStatus.CANCELED,
}


def classify_item(progress: ItemProgress) -> ItemStatus:
    """Fills decide first (a fill that won a cancel race still counts); the ending decides
    what an item with no fill is."""
    if progress.filled_qty < 0 or progress.filled_notional < 0:
        raise ValueError("filled amounts must not be negative")
    if progress.filled_qty > 0 and progress.is_complete:
        return ItemStatus.FILLED
    if progress.filled_qty > 0:
        return ItemStatus.PARTIALLY_FILLED
    return _UNFILLED_STATUS[progress.ending]


@dataclass(frozen=True, slots=True)
class ItemAccount:
    """What was told about an item on the way, and what its final state explains."""

    status: ItemStatus
    ending: ItemEnding
    told_ending: str | None = None
    """The reason the item's ending was given (first ending stands)."""
    notes: tuple[str, ...] = ()
    """Steps told on the way: a reduced grant, a market order not filled within its wait."""
    explanations: tuple[str, ...] = ()
    """Facts of the final state, true whatever the status: capped at the position, completed
    by an earlier attempt, an average price the broker never gave."""
    sent_orders: bool = True
    """Whether this attempt sent any order for the item."""


def item_reason(account: ItemAccount) -> str | None:
    """The item's reason, about how it ended.

    A FILLED item carries only the explanations of its final state: what was told on the way
    (a market order not filled within its wait, the deadline, a below-minimum remainder after
    an earlier attempt's fills) was overtaken by the fills. Any other item gives how it ended,
    then the explanations, then the steps told; and always says something.
    """
    if account.status is ItemStatus.FILLED:
        parts = list(account.explanations)
    else:
        parts = [account.told_ending or "", *account.explanations, *account.notes]
    said = [part for part in dict.fromkeys(parts) if part and _holds(part, account)]
    if not said and account.status is not ItemStatus.FILLED:
        said = [_untold_ending(account)]
    return "; ".join(said) or None


def _holds(part: str, account: ItemAccount) -> bool:
    """A claim about the final state is kept only when the final state bears it out."""
    return part != EARLIER_ATTEMPT_REASON or part in account.explanations


def _untold_ending(account: ItemAccount) -> str:
    """How an item ended when nothing was told: from its ending and status."""
    if account.ending is ItemEnding.WORKED and not account.sent_orders:
        return "nothing sent: the amount sized to no order at the walk's first price"
    if account.ending is ItemEnding.CANCELED:
        return "cancelled before it completed"
    if account.ending is ItemEnding.ERRORED:
        return "stopped by an error"
    if account.ending is ItemEnding.SKIPPED:
        return "skipped"
    if account.status is ItemStatus.PARTIALLY_FILLED:
        return "its orders ended with part of the amount filled"
    return "its orders ended with nothing filled"


def classify_plan(items: Iterable[ItemStatus], *, timed_out: bool) -> ExecutionStatus:
    """The plan's status from its items' statuses (HOLD items are left out by the caller).

    SUCCESS: everything filled (or nothing to do). SUCCESS_WITH_SKIPS: everything filled or
    was skipped. FAILURE: nothing filled at all. PARTIAL_SUCCESS: anything else. TIMED_OUT
    wins over all of them.
    """
    if timed_out:
        return ExecutionStatus.TIMED_OUT
    statuses = set(items)
    if statuses <= {ItemStatus.FILLED}:
        return ExecutionStatus.SUCCESS
    if statuses <= {ItemStatus.FILLED, ItemStatus.SKIPPED}:
        return ExecutionStatus.SUCCESS_WITH_SKIPS
    if not statuses & {ItemStatus.FILLED, ItemStatus.PARTIALLY_FILLED}:
        return ExecutionStatus.FAILURE
    return ExecutionStatus.PARTIAL_SUCCESS
