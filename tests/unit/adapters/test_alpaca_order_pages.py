"""Listing every order since an instant, a page at a time, without skipping or repeating."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alpaca_samples import wire_order

from plan_executor.adapters.alpaca_mapping import order_from_wire
from plan_executor.adapters.alpaca_orders import OrderPages, page_cursor
from plan_executor.ports import BrokerError, BrokerOrder

SINCE = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)


def order(number: int) -> BrokerOrder:
    return replace(order_from_wire(wire_order()), broker_id=f"id-{number}")


def raw_at(created: str, submitted: str | None) -> dict[str, object]:
    return wire_order(created_at=created, submitted_at=submitted)


def test_a_short_first_page_completes_the_listing() -> None:
    pages = OrderPages(SINCE)
    assert pages.next_after() == SINCE

    pages.add([order(1), order(2)], last_raw=raw_at("2026-11-24T14:45:00Z", None), full=False)

    assert pages.next_after() is None
    assert [o.broker_id for o in pages.orders()] == ["id-1", "id-2"]


def test_an_empty_page_completes_the_listing() -> None:
    pages = OrderPages(SINCE)

    pages.add([], last_raw=None, full=False)

    assert pages.next_after() is None
    assert pages.orders() == []


def test_a_full_page_continues_just_before_its_last_order() -> None:
    pages = OrderPages(SINCE)

    pages.add([order(1), order(2)], last_raw=raw_at("2026-11-24T14:45:00Z", None), full=True)

    assert pages.next_after() == T0 - timedelta(microseconds=1)


def test_orders_seen_twice_are_kept_once_in_first_seen_order() -> None:
    pages = OrderPages(SINCE)
    last = raw_at("2026-11-24T14:45:00Z", None)
    pages.add([order(1), order(2)], last_raw=last, full=True)

    pages.add([order(2), order(3)], last_raw=last, full=False)

    assert [o.broker_id for o in pages.orders()] == ["id-1", "id-2", "id-3"]


def test_a_full_page_with_nothing_new_refuses_to_list_partially() -> None:
    pages = OrderPages(SINCE)
    last = raw_at("2026-11-24T14:45:00Z", None)
    pages.add([order(1), order(2)], last_raw=last, full=True)

    with pytest.raises(BrokerError, match="every order"):
        pages.add([order(1), order(2)], last_raw=last, full=True)


@pytest.mark.parametrize(
    ("created", "submitted", "cursor"),
    [
        ("2026-11-24T14:45:00Z", "2026-11-24T14:45:00.000300Z", T0),
        ("2026-11-24T14:45:00.000300Z", "2026-11-24T14:45:00Z", T0),
        ("2026-11-24T14:45:00Z", None, T0),
    ],
)
def test_the_cursor_is_the_earlier_of_creation_and_submission(
    created: str, submitted: str | None, cursor: datetime
) -> None:
    assert page_cursor(raw_at(created, submitted)) == cursor
