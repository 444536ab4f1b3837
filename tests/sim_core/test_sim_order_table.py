"""The order lifecycle table: every legal move works and emits its event; others raise."""

import pytest
from simcore_support import AT, order_in

from alpaca_sim.orders import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransitionError,
    OrderEvent,
    OrderStatus,
    next_transition,
)

S = OrderStatus
E = OrderEvent


EXPECTED_EVENTS = {
    # Alpaca's common path streams nothing on receipt or on a cancel request (orders.py).
    (None, E.RECEIVED_IN_SESSION): (S.ACCEPTED, None),
    (None, E.RECEIVED_PENDING_NEW): (S.PENDING_NEW, "pending_new"),
    (None, E.RECEIVED_OUT_OF_SESSION): (S.ACCEPTED, "accepted"),
    (S.PENDING_NEW, E.ACKNOWLEDGED): (S.NEW, "new"),
    (S.ACCEPTED, E.ACKNOWLEDGED): (S.NEW, "new"),
    (S.NEW, E.PARTIALLY_FILLED): (S.PARTIALLY_FILLED, "partial_fill"),
    (S.PARTIALLY_FILLED, E.PARTIALLY_FILLED): (S.PARTIALLY_FILLED, "partial_fill"),
    (S.NEW, E.FILLED): (S.FILLED, "fill"),
    (S.PARTIALLY_FILLED, E.FILLED): (S.FILLED, "fill"),
    (S.ACCEPTED, E.CANCEL_REQUESTED): (S.ACCEPTED, None),
    (S.NEW, E.CANCEL_REQUESTED): (S.NEW, None),
    (S.PARTIALLY_FILLED, E.CANCEL_REQUESTED): (S.PARTIALLY_FILLED, None),
    (S.NEW, E.CANCEL_PENDING): (S.PENDING_CANCEL, "pending_cancel"),
    (S.PARTIALLY_FILLED, E.CANCEL_PENDING): (S.PENDING_CANCEL, "pending_cancel"),
    (S.ACCEPTED, E.CANCELED): (S.CANCELED, "canceled"),
    (S.NEW, E.CANCELED): (S.CANCELED, "canceled"),
    (S.PARTIALLY_FILLED, E.CANCELED): (S.CANCELED, "canceled"),
    (S.PENDING_CANCEL, E.CANCELED): (S.CANCELED, "canceled"),
    (S.PENDING_CANCEL, E.FILLED): (S.FILLED, "fill"),
    (S.FILLED, E.CANCEL_REJECTED): (S.FILLED, "order_cancel_rejected"),
    (S.NEW, E.REPLACE_REQUESTED): (S.PENDING_REPLACE, "pending_replace"),
    (S.PENDING_REPLACE, E.REPLACED): (S.REPLACED, "replaced"),
    (S.NEW, E.EXPIRED): (S.EXPIRED, "expired"),
    (S.PARTIALLY_FILLED, E.EXPIRED): (S.EXPIRED, "expired"),
    (S.NEW, E.DONE_FOR_DAY): (S.DONE_FOR_DAY, "done_for_day"),
    (S.PARTIALLY_FILLED, E.DONE_FOR_DAY): (S.DONE_FOR_DAY, "done_for_day"),
    (S.PENDING_NEW, E.REJECTED): (S.REJECTED, "rejected"),
    (S.ACCEPTED, E.REJECTED): (S.REJECTED, "rejected"),
}


def test_the_table_contains_the_documented_lifecycle() -> None:
    for (status, event), (to, update) in EXPECTED_EVENTS.items():
        transition = TRANSITIONS[(status, event)]
        assert (transition.to, transition.update) == (to, update), (status, event)


@pytest.mark.parametrize(("status", "event"), list(TRANSITIONS), ids=str)
def test_every_legal_transition_moves_the_order_and_names_its_event(
    status: OrderStatus | None, event: OrderEvent
) -> None:
    expected = TRANSITIONS[(status, event)]
    if status is None:
        assert next_transition(None, event) == expected
        return
    order = order_in(status)
    transition = order.apply(event, AT)
    assert order.status is expected.to
    assert transition.update == expected.update
    assert order.updated_at == AT


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (S.FILLED, E.CANCEL_REQUESTED),
        (S.CANCELED, E.FILLED),
        (S.CANCELED, E.CANCEL_REQUESTED),
        (S.EXPIRED, E.ACKNOWLEDGED),
        (S.REPLACED, E.CANCEL_REQUESTED),
        (S.REJECTED, E.ACKNOWLEDGED),
        (S.ACCEPTED, E.FILLED),
        (S.PENDING_NEW, E.PARTIALLY_FILLED),
        (S.NEW, E.REPLACED),
        (S.NEW, E.CANCEL_REJECTED),
        (S.PENDING_CANCEL, E.REPLACE_REQUESTED),
        (S.PENDING_REPLACE, E.CANCEL_REQUESTED),
        (S.PENDING_CANCEL, E.CANCEL_REQUESTED),
        (S.PENDING_CANCEL, E.CANCEL_PENDING),
        (S.FILLED, E.CANCEL_PENDING),
        (S.PARTIALLY_FILLED, E.REJECTED),
        (S.FILLED, E.FILLED),
    ],
    ids=str,
)
def test_illegal_transitions_raise_and_leave_the_order_untouched(
    status: OrderStatus, event: OrderEvent
) -> None:
    order = order_in(status)
    with pytest.raises(IllegalTransitionError):
        order.apply(event, AT)
    assert order.status is status
    assert order.updated_at is None


def test_nothing_but_receipt_creates_an_order() -> None:
    for event in E:
        if event not in {E.RECEIVED_IN_SESSION, E.RECEIVED_PENDING_NEW, E.RECEIVED_OUT_OF_SESSION}:
            with pytest.raises(IllegalTransitionError):
                next_transition(None, event)


def test_terminal_states_only_acknowledge_a_lost_cancel() -> None:
    for (status, event), transition in TRANSITIONS.items():
        if status in TERMINAL:
            assert (status, event) == (S.FILLED, E.CANCEL_REJECTED)
            assert transition.to is S.FILLED


def test_every_unlisted_pair_is_refused() -> None:
    for status in S:
        for event in E:
            if (status, event) not in TRANSITIONS:
                with pytest.raises(IllegalTransitionError):
                    next_transition(status, event)


def test_status_times_are_stamped_by_the_transition() -> None:
    order = order_in(S.PENDING_CANCEL)
    order.apply(E.CANCELED, AT)
    assert order.canceled_at == AT
    expired = order_in(S.NEW)
    expired.apply(E.EXPIRED, AT)
    assert expired.expired_at == AT
    rejected = order_in(S.PENDING_NEW)
    rejected.apply(E.REJECTED, AT)
    assert rejected.failed_at == AT
