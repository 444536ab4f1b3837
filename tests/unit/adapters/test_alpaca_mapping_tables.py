"""Alpaca statuses and trade_updates events in our terms: every one the SDK knows, plus the
stream-only ones and unknown strings."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderStatus
from alpaca.trading.enums import TradeEvent as SdkTradeEvent
from alpaca_samples import trade_update, wire_order

from plan_executor.adapters.alpaca_mapping import (
    KIND_BY_EVENT,
    SNAPSHOT_EVENTS,
    STATUS_BY_ALPACA,
    status_from_wire,
    trade_event_from_wire,
)
from plan_executor.domain.enums import ChildOrderStatus as S
from plan_executor.domain.money import Shares
from plan_executor.domain.order_updates import UpdateKind as K

NONE = Shares(Decimal(0))
SOME = Shares(Decimal("0.5"))

EXPECTED_STATUS = {
    "new": S.NEW,
    "partially_filled": S.PARTIALLY_FILLED,
    "filled": S.FILLED,
    "done_for_day": S.DONE_FOR_DAY,
    "canceled": S.CANCELED,
    "expired": S.EXPIRED,
    "replaced": S.REPLACED,
    "pending_cancel": S.PENDING_CANCEL,
    "pending_replace": S.PENDING_REPLACE,
    "pending_review": S.ACCEPTED,
    "accepted": S.ACCEPTED,
    "pending_new": S.ACCEPTED,
    "accepted_for_bidding": S.ACCEPTED,
    "stopped": S.NEW,
    "rejected": S.REJECTED,
    "suspended": S.ACCEPTED,
    "calculated": S.DONE_FOR_DAY,
    "held": S.ACCEPTED,
}

EXPECTED_KIND = {
    "accepted": K.ACCEPTED,
    "pending_new": K.ACCEPTED,
    "new": K.NEW,
    "partial_fill": K.PARTIAL_FILL,
    "fill": K.FILL,
    "pending_cancel": K.PENDING_CANCEL,
    "pending_replace": K.PENDING_REPLACE,
    "canceled": K.CANCELED,
    "expired": K.EXPIRED,
    "rejected": K.REJECTED,
    "replaced": K.REPLACED,
    "order_cancel_rejected": K.CANCEL_REJECTED,
    "done_for_day": K.DONE_FOR_DAY,
}
EXPECTED_SNAPSHOT_EVENTS = {
    "stopped",
    "suspended",
    "calculated",
    "restated",
    "order_replace_rejected",
    "held",
}


def test_every_status_the_sdk_knows_is_in_the_table() -> None:
    assert {status.value for status in OrderStatus} == set(STATUS_BY_ALPACA)


@pytest.mark.parametrize(("alpaca", "ours"), sorted(EXPECTED_STATUS.items()))
def test_status_reads_as(alpaca: str, ours: S) -> None:
    assert status_from_wire(alpaca, NONE) is ours


def test_an_unknown_status_reads_as_an_open_order_never_a_terminal_one() -> None:
    assert status_from_wire("teleported", NONE) is S.ACCEPTED


@pytest.mark.parametrize("alpaca", ["stopped", "held", "suspended", "teleported", "accepted"])
def test_a_conservative_reading_with_fills_is_partially_filled(alpaca: str) -> None:
    assert status_from_wire(alpaca, SOME) is S.PARTIALLY_FILLED


def test_a_canceled_order_with_fills_stays_canceled() -> None:
    assert status_from_wire("canceled", SOME) is S.CANCELED


def test_every_event_the_sdk_knows_is_mapped_or_a_snapshot() -> None:
    known = set(KIND_BY_EVENT) | SNAPSHOT_EVENTS
    assert {event.value for event in SdkTradeEvent} <= known
    assert set(KIND_BY_EVENT) == set(EXPECTED_KIND)
    assert set(EXPECTED_SNAPSHOT_EVENTS) == SNAPSHOT_EVENTS


@pytest.mark.parametrize(("event", "kind"), sorted(EXPECTED_KIND.items()))
def test_event_becomes_kind(event: str, kind: K) -> None:
    filled = {"filled_qty": "3", "filled_avg_price": "271.40"} if "fill" in event else {}
    mapped = trade_event_from_wire(trade_update(event, wire_order(**filled)))

    assert mapped is not None
    assert mapped.update.kind is kind
    assert mapped.update.status is None
    assert mapped.client_order_id == "abc-AAPL-b-1"
    assert mapped.symbol == "AAPL"
    assert mapped.update.broker_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert mapped.update.at == datetime(2026, 11, 24, 14, 45, 2, 500000, tzinfo=UTC)


@pytest.mark.parametrize("event", sorted(EXPECTED_SNAPSHOT_EVENTS))
def test_events_without_a_kind_carry_the_order_status(event: str) -> None:
    order = wire_order(status="partially_filled", filled_qty="1", filled_avg_price="271.4")
    mapped = trade_event_from_wire(trade_update(event, order))

    assert mapped is not None
    assert mapped.update.kind is K.SNAPSHOT
    assert mapped.update.status is S.PARTIALLY_FILLED
    assert mapped.update.filled_qty == Decimal(1)


def test_an_unknown_event_is_none() -> None:
    assert trade_event_from_wire(trade_update("teleported", wire_order())) is None


def test_a_partial_fill_carries_this_execution_and_the_cumulative_order() -> None:
    order = wire_order(
        status="partially_filled", filled_qty="2.000000001", filled_avg_price="271.415"
    )
    mapped = trade_event_from_wire(
        trade_update(
            "partial_fill",
            order,
            execution_id="e-1",
            price="271.43",
            qty="0.000000001",
            position_qty="24.5",
        )
    )

    assert mapped is not None
    news = mapped.update
    assert news.execution_id == "e-1"
    assert news.last_qty == Decimal("0.000000001")
    assert news.last_price == Decimal("271.43")
    assert news.filled_qty == Decimal("2.000000001")
    assert news.avg_price == Decimal("271.415")


def test_a_fill_without_execution_details_still_carries_the_cumulative_fill() -> None:
    order = wire_order(status="filled", filled_qty="3", filled_avg_price=None)
    mapped = trade_event_from_wire(trade_update("fill", order))

    assert mapped is not None
    assert mapped.update.filled_qty == Decimal(3)
    assert mapped.update.avg_price is None  # never estimated
    assert mapped.update.last_qty is None
    assert mapped.update.last_price is None


def test_an_execution_price_without_a_quantity_is_dropped() -> None:
    order = wire_order(status="filled", filled_qty="3", filled_avg_price="271.4")
    mapped = trade_event_from_wire(trade_update("fill", order, price="271.4"))

    assert mapped is not None
    assert (mapped.update.last_qty, mapped.update.last_price) == (None, None)


def test_execution_details_on_a_non_fill_event_are_ignored() -> None:
    mapped = trade_event_from_wire(trade_update("canceled", wire_order(), price="1", qty="1"))

    assert mapped is not None
    assert mapped.update.last_qty is None


def test_the_event_time_falls_back_to_the_order_update_time() -> None:
    message = trade_update("new", wire_order())
    del message["timestamp"]

    mapped = trade_event_from_wire(message)

    assert mapped is not None
    assert mapped.update.at == datetime(2026, 11, 24, 14, 45, 1, tzinfo=UTC)
