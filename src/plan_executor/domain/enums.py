"""Enumerations shared by the contracts and the execution rules."""

from enum import StrEnum


class Action(StrEnum):
    """What a plan item asks for."""

    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class Side(StrEnum):
    """The side of a broker order."""

    BUY = "buy"
    SELL = "sell"


class Urgency(StrEnum):
    """Execution urgency; picks the smart-order profile."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


class ExecutionStatus(StrEnum):
    """Outcome of one plan execution."""

    SUCCESS = "SUCCESS"
    SUCCESS_WITH_SKIPS = "SUCCESS_WITH_SKIPS"
    PARTIAL_SUCCESS = "PARTIAL_SUCCESS"
    FAILURE = "FAILURE"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"


class ItemStatus(StrEnum):
    """Outcome of one plan item."""

    FILLED = "FILLED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELED = "CANCELED"


class TradingMode(StrEnum):
    """Where orders go."""

    PAPER = "paper"
    LIVE = "live"
    SIMULATED = "simulated"


class Venue(StrEnum):
    """How the broker fills what it is sent (docs/design.md 2.9): paper fills only orders
    marketable against the quote, at the quote; live routes to a market where passive limits
    can fill inside the spread and market orders get price improvement."""

    PAPER = "paper"
    LIVE = "live"


class Execution(StrEnum):
    """How one item is worked: the smart order's walk, or one immediately marketable order."""

    WALK = "walk"
    MARKETABLE = "marketable"


class OrderType(StrEnum):
    """Broker order types this service sends."""

    LIMIT = "limit"
    MARKET = "market"


class ChildOrderStatus(StrEnum):
    """Broker order lifecycle as this service tracks it (a subset of Alpaca's statuses)."""

    PENDING_SUBMIT = "pending_submit"
    """Sent, outcome not yet known (no ack)."""
    ACCEPTED = "accepted"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    DONE_FOR_DAY = "done_for_day"
