"""What the broker tells us about a child order, in our own terms.

Stream events (`trade_updates`) and REST reads (SNAPSHOT) both become an `OrderUpdate`; the
adapter maps the broker's statuses and events onto these kinds. `TRANSITIONS` is the single
table the child-order state machine follows.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.domain.money import Price, Shares


class UpdateKind(StrEnum):
    """Broker news about one order. SNAPSHOT is a REST read carrying the whole status."""

    ACCEPTED = "accepted"
    NEW = "new"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    CANCEL_REJECTED = "cancel_rejected"
    DONE_FOR_DAY = "done_for_day"
    SNAPSHOT = "snapshot"


_S = ChildOrderStatus
_K = UpdateKind

_KIND_OF_SNAPSHOT_STATUS: Mapping[ChildOrderStatus, UpdateKind] = MappingProxyType(
    {
        _S.ACCEPTED: _K.ACCEPTED,
        _S.NEW: _K.NEW,
        _S.PARTIALLY_FILLED: _K.PARTIAL_FILL,
        _S.FILLED: _K.FILL,
        _S.PENDING_CANCEL: _K.PENDING_CANCEL,
        _S.PENDING_REPLACE: _K.PENDING_REPLACE,
        _S.CANCELED: _K.CANCELED,
        _S.EXPIRED: _K.EXPIRED,
        _S.REJECTED: _K.REJECTED,
        _S.REPLACED: _K.REPLACED,
        _S.DONE_FOR_DAY: _K.DONE_FOR_DAY,
    }
)

TERMINAL_STATUSES = frozenset({_S.FILLED, _S.CANCELED, _S.EXPIRED, _S.REJECTED, _S.REPLACED})
"""No further fills expected; the caller moves on (re-peg, market fallback, report)."""


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One piece of broker news.

    `filled_qty` and `avg_price` are cumulative for the order, as the broker reports them;
    `last_qty`/`last_price` describe this execution only. `status` is set only on SNAPSHOT.
    """

    kind: UpdateKind
    at: datetime
    broker_id: str | None = None
    status: ChildOrderStatus | None = None
    filled_qty: Shares | None = None
    avg_price: Price | None = None
    execution_id: str | None = None
    last_qty: Shares | None = None
    last_price: Price | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("update time must be timezone-aware")
        if (self.kind is UpdateKind.SNAPSHOT) != (self.status is not None):
            raise ValueError("a status is carried by SNAPSHOT updates and only by them")
        if self.status is _S.PENDING_SUBMIT:
            raise ValueError("the broker never reports pending_submit")
        if self.effective_kind in (_K.PARTIAL_FILL, _K.FILL) and self.filled_qty is None:
            raise ValueError(f"a {self.effective_kind} update needs the cumulative filled_qty")
        if self.last_price is not None and self.last_qty is None:
            raise ValueError("an execution price needs its quantity")
        for qty in (self.filled_qty, self.last_qty):
            if qty is not None and (not qty.is_finite() or qty < 0):
                raise ValueError(f"quantities must be finite and not negative, got {qty}")
        for price in (self.avg_price, self.last_price):
            if price is not None and (not price.is_finite() or price <= 0):
                raise ValueError(f"prices must be finite and positive, got {price}")

    @property
    def effective_kind(self) -> UpdateKind:
        """The stream kind a SNAPSHOT stands for; the kind itself otherwise."""
        if self.status is None:
            return self.kind
        return _KIND_OF_SNAPSHOT_STATUS[self.status]


_Rows = dict[tuple[ChildOrderStatus, UpdateKind], ChildOrderStatus]


def _to(kind: UpdateKind, target: ChildOrderStatus, *sources: ChildOrderStatus) -> _Rows:
    return {(source, kind): target for source in sources}


def _stay(kind: UpdateKind, *sources: ChildOrderStatus) -> _Rows:
    return {(source, kind): source for source in sources}


_UNACKED = (_S.PENDING_SUBMIT,)
_WORKING = (_S.ACCEPTED, _S.NEW, _S.PARTIALLY_FILLED)
_PENDING = (_S.PENDING_CANCEL, _S.PENDING_REPLACE)
_OPEN = (*_UNACKED, *_WORKING, *_PENDING, _S.DONE_FOR_DAY)
# A fill reported after the order ended (it raced a cancel, an expiry or a replace) is a fact
# and is recorded; the order is FILLED if it completed, else it keeps its terminal status.
_FILLABLE_AFTER_END = (_S.CANCELED, _S.EXPIRED, _S.REPLACED)

TRANSITIONS: Mapping[tuple[ChildOrderStatus, UpdateKind], ChildOrderStatus] = MappingProxyType(
    {
        **_to(_K.ACCEPTED, _S.ACCEPTED, _S.PENDING_SUBMIT),
        **_stay(_K.ACCEPTED, *_WORKING, *_PENDING, _S.DONE_FOR_DAY),
        **_to(_K.NEW, _S.NEW, _S.PENDING_SUBMIT, _S.ACCEPTED, _S.NEW, _S.PENDING_REPLACE),
        **_stay(_K.NEW, _S.PARTIALLY_FILLED, _S.PENDING_CANCEL, _S.DONE_FOR_DAY),
        **_to(_K.PARTIAL_FILL, _S.PARTIALLY_FILLED, *_UNACKED, *_WORKING),
        **_stay(_K.PARTIAL_FILL, *_PENDING, _S.DONE_FOR_DAY, *_FILLABLE_AFTER_END),
        **_to(_K.FILL, _S.FILLED, *_OPEN, *_FILLABLE_AFTER_END),
        **_to(_K.PENDING_CANCEL, _S.PENDING_CANCEL, *_OPEN),
        **_to(_K.PENDING_REPLACE, _S.PENDING_REPLACE, _S.NEW, _S.PARTIALLY_FILLED),
        **_stay(_K.PENDING_REPLACE, _S.PENDING_REPLACE),
        **_to(_K.CANCELED, _S.CANCELED, *_OPEN),
        **_to(_K.EXPIRED, _S.EXPIRED, *_OPEN),
        **_to(_K.REJECTED, _S.REJECTED, _S.PENDING_SUBMIT, _S.ACCEPTED, _S.NEW),
        **_to(_K.REPLACED, _S.REPLACED, *_WORKING, _S.PENDING_REPLACE),
        **_to(_K.CANCEL_REJECTED, _S.NEW, _S.PENDING_CANCEL),
        **_stay(_K.CANCEL_REJECTED, *_WORKING, _S.PENDING_REPLACE, _S.DONE_FOR_DAY),
        **_to(_K.DONE_FOR_DAY, _S.DONE_FOR_DAY, *_WORKING, _S.DONE_FOR_DAY),
    }
)
"""(current status, update kind) -> next status. Anything else from an open order is illegal.
Updates that reach a terminal order without a new fill are ignored before this table is read."""
