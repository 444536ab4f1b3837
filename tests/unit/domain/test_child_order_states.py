from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.child_order import (
    ChildOrder,
    ChildOrderError,
    Fill,
    IllegalTransition,
    MismatchedUpdateError,
    OverFillError,
    apply,
    submitted,
)
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import price, shares
from plan_executor.domain.order_updates import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    OrderUpdate,
    UpdateKind,
)

S = ChildOrderStatus
K = UpdateKind
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)
QTY = shares("10")
KIND_OF_STATUS = {
    S.ACCEPTED: K.ACCEPTED,
    S.NEW: K.NEW,
    S.PARTIALLY_FILLED: K.PARTIAL_FILL,
    S.FILLED: K.FILL,
    S.PENDING_CANCEL: K.PENDING_CANCEL,
    S.PENDING_REPLACE: K.PENDING_REPLACE,
    S.CANCELED: K.CANCELED,
    S.EXPIRED: K.EXPIRED,
    S.REJECTED: K.REJECTED,
    S.REPLACED: K.REPLACED,
    S.DONE_FOR_DAY: K.DONE_FOR_DAY,
}
STREAM_KINDS = [kind for kind in UpdateKind if kind is not K.SNAPSHOT]


def new_order() -> ChildOrder:
    return submitted(
        client_order_id="0123456789-AAPL-b-1",
        symbol="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=QTY,
        limit_price=price("100.05"),
        at=T0,
    )


def order_in(status: ChildOrderStatus, filled: str = "0") -> ChildOrder:
    filled_qty = shares(filled)
    fills = (Fill("seed", filled_qty, price("100.00"), T0),) if filled_qty > 0 else ()
    return replace(
        new_order(),
        broker_id="broker-1",
        status=status,
        filled_qty=filled_qty,
        avg_fill_price=price("100.00") if filled_qty > 0 else None,
        fills=fills,
        terminal_at=T0 if status in TERMINAL_STATUSES else None,
    )


def update(kind: UpdateKind, **fields: object) -> OrderUpdate:
    return OrderUpdate(kind=kind, at=T1, **fields)  # type: ignore[arg-type]


def fill_update(kind: UpdateKind, cumulative: str, execution_id: str, **fields: object):
    return update(
        kind,
        filled_qty=shares(cumulative),
        execution_id=execution_id,
        **{"avg_price": price("100.02"), **fields},
    )


def starting_fill(status: ChildOrderStatus) -> str:
    return "4" if status is S.PARTIALLY_FILLED or status in TERMINAL_STATUSES else "0"


def update_for(kind: UpdateKind, filled: str, *, as_snapshot: bool) -> OrderUpdate:
    cumulative = {K.PARTIAL_FILL: shares(Decimal(filled) + 2), K.FILL: QTY}.get(kind)
    avg = price("100.02") if cumulative is not None else None
    if as_snapshot:
        status = next(s for s, k in KIND_OF_STATUS.items() if k is kind)
        snapshot_qty = cumulative if cumulative is not None else shares(filled)
        return update(K.SNAPSHOT, status=status, filled_qty=snapshot_qty, avg_price=avg)
    return update(kind, filled_qty=cumulative, avg_price=avg, execution_id=f"x-{kind}")


@pytest.mark.parametrize(("source", "kind"), sorted(TRANSITIONS))
def test_every_legal_transition_reaches_its_table_target(
    source: ChildOrderStatus, kind: UpdateKind
) -> None:
    filled = starting_fill(source)
    after = apply(order_in(source, filled), update_for(kind, filled, as_snapshot=False))
    assert after.status is TRANSITIONS[(source, kind)]
    if kind in KIND_OF_STATUS.values():
        snapshot = update_for(kind, filled, as_snapshot=True)
        assert apply(order_in(source, filled), snapshot).status is TRANSITIONS[(source, kind)]


ILLEGAL_FROM_OPEN = [
    (status, kind)
    for status in ChildOrderStatus
    if status not in TERMINAL_STATUSES
    for kind in STREAM_KINDS
    if (status, kind) not in TRANSITIONS
]


@pytest.mark.parametrize(("source", "kind"), ILLEGAL_FROM_OPEN)
def test_illegal_transitions_from_open_orders_raise(
    source: ChildOrderStatus, kind: UpdateKind
) -> None:
    filled = starting_fill(source)
    with pytest.raises(IllegalTransition):
        apply(order_in(source, filled), update_for(kind, filled, as_snapshot=False))


def test_known_impossible_moves_are_among_the_illegal_ones() -> None:
    assert {
        (S.PARTIALLY_FILLED, K.REJECTED),
        (S.PENDING_SUBMIT, K.CANCEL_REJECTED),
        (S.PENDING_CANCEL, K.REPLACED),
        (S.ACCEPTED, K.PENDING_REPLACE),
    } <= set(ILLEGAL_FROM_OPEN)


def test_a_new_fill_on_a_rejected_order_raises() -> None:
    with pytest.raises(IllegalTransition):
        apply(order_in(S.REJECTED), fill_update(K.PARTIAL_FILL, "2", "x1"))


def test_full_life_of_an_order() -> None:
    order = apply(new_order(), update(K.ACCEPTED, broker_id="broker-1"))
    order = apply(order, update(K.NEW, broker_id="broker-1"))
    order = apply(
        order,
        fill_update(K.PARTIAL_FILL, "4", "e1", last_qty=shares(4), last_price=price("100.01")),
    )
    assert order.status is S.PARTIALLY_FILLED
    assert order.is_open
    assert order.leaves_qty == 6
    order = apply(
        order, fill_update(K.FILL, "10", "e2", last_qty=shares(6), last_price=price("100.03"))
    )
    assert order.status is S.FILLED
    assert order.broker_id == "broker-1"
    assert order.filled_qty == QTY
    assert order.avg_fill_price == Decimal("100.02")
    assert [(f.execution_id, f.qty, f.price) for f in order.fills] == [
        ("e1", 4, Decimal("100.01")),
        ("e2", 6, Decimal("100.03")),
    ]
    assert order.is_terminal
    assert order.terminal_at == T1
    assert order.leaves_qty == 0
    assert not order.needs_price_reread


def test_incident_12_duplicate_execution_is_counted_once() -> None:
    order = apply(order_in(S.NEW), fill_update(K.PARTIAL_FILL, "4", "e1"))
    replayed = apply(order, fill_update(K.PARTIAL_FILL, "4", "e1"))
    assert replayed is order
    # The same execution replayed under another id carries no new cumulative quantity.
    relabelled = apply(order, fill_update(K.PARTIAL_FILL, "4", "e1-again"))
    assert relabelled.filled_qty == 4
    assert len(relabelled.fills) == 1


def test_stale_update_with_lower_cumulative_fill_is_ignored() -> None:
    order = apply(order_in(S.NEW), fill_update(K.PARTIAL_FILL, "6", "e2"))
    late = apply(order, fill_update(K.PARTIAL_FILL, "4", "e1"))
    assert late is order
    assert apply(order, update(K.NEW, filled_qty=shares("0"))) is order


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize("kind", [K.NEW, K.ACCEPTED, K.CANCELED, K.EXPIRED, K.CANCEL_REJECTED])
def test_news_after_a_terminal_state_without_a_new_fill_is_ignored(
    terminal: ChildOrderStatus, kind: UpdateKind
) -> None:
    order = order_in(terminal, "10" if terminal is S.FILLED else "4")
    assert apply(order, update(kind)) is order


def test_incident_07_fill_racing_a_pending_cancel_wins() -> None:
    order = apply(order_in(S.NEW), update(K.PENDING_CANCEL))
    assert order.status is S.PENDING_CANCEL
    order = apply(order, fill_update(K.FILL, "10", "e1"))
    assert order.status is S.FILLED
    assert order.filled_qty == QTY


def test_incident_07_fill_reported_after_the_cancel_is_recorded() -> None:
    canceled = apply(order_in(S.PARTIALLY_FILLED, "4"), update(K.CANCELED))
    assert canceled.status is S.CANCELED
    partial = apply(canceled, fill_update(K.PARTIAL_FILL, "6", "late-1"))
    assert partial.status is S.CANCELED
    assert partial.filled_qty == 6
    completed = apply(partial, fill_update(K.FILL, "10", "late-2"))
    assert completed.status is S.FILLED
    assert completed.filled_qty == QTY
    assert completed.terminal_at == canceled.terminal_at


def test_partial_fill_that_completes_the_order_is_filled() -> None:
    order = apply(order_in(S.PENDING_CANCEL), fill_update(K.PARTIAL_FILL, "10", "e1"))
    assert order.status is S.FILLED


def test_cancel_rejected_returns_a_partly_filled_order_to_partially_filled() -> None:
    order = apply(order_in(S.PARTIALLY_FILLED, "4"), update(K.PENDING_CANCEL))
    assert apply(order, update(K.CANCEL_REJECTED)).status is S.PARTIALLY_FILLED


def test_over_fill_raises() -> None:
    with pytest.raises(OverFillError):
        apply(order_in(S.NEW), fill_update(K.PARTIAL_FILL, "10.000000001", "e1"))


def test_fill_event_short_of_the_quantity_raises() -> None:
    with pytest.raises(IllegalTransition, match="fill at 9"):
        apply(order_in(S.NEW), fill_update(K.FILL, "9", "e1"))


def test_incident_15_fill_without_price_is_not_estimated() -> None:
    order = apply(order_in(S.NEW), fill_update(K.PARTIAL_FILL, "4", "e1"))
    assert order.avg_fill_price == Decimal("100.02")
    filled = apply(
        order,
        fill_update(K.FILL, "10", "e2", avg_price=None, last_qty=shares(6), last_price=price(101)),
    )
    assert filled.status is S.FILLED
    assert filled.avg_fill_price is None
    assert filled.needs_price_reread
    reread = apply(
        filled,
        update(K.SNAPSHOT, status=S.FILLED, filled_qty=QTY, avg_price=price("100.634")),
    )
    assert reread.avg_fill_price == Decimal("100.634")
    assert not reread.needs_price_reread
    assert reread.fills == filled.fills


def test_incident_09_broker_cancel_and_expiry_are_visible_terminal_states() -> None:
    canceled = apply(order_in(S.NEW), update(K.CANCELED))
    expired = apply(order_in(S.PARTIALLY_FILLED, "4"), update(K.EXPIRED))
    read = apply(order_in(S.NEW), update(K.SNAPSHOT, status=S.CANCELED, filled_qty=shares(3)))
    for order in (canceled, expired, read):
        assert order.is_terminal
        assert not order.is_open
        assert order.leaves_qty == 0
        assert order.terminal_at == T1
    assert expired.unfilled_qty == 6
    assert read.unfilled_qty == 7


def test_incident_06_unfilled_quantity_is_what_a_repeg_may_send() -> None:
    order = apply(order_in(S.PENDING_CANCEL), fill_update(K.PARTIAL_FILL, "3.5", "e1"))
    order = apply(order, update(K.CANCELED))
    assert order.unfilled_qty == Decimal("6.5")


def test_rise_seen_only_in_a_rest_read_is_recorded_without_id_or_price() -> None:
    read = update(K.SNAPSHOT, status=S.PARTIALLY_FILLED, filled_qty=shares(4), avg_price=price(100))
    order = apply(order_in(S.NEW), read)
    assert order.fills == (Fill(None, shares(4), None, T1),)
    assert order.avg_fill_price == 100


def test_missed_execution_is_recorded_as_a_gap_fill() -> None:
    event = fill_update(K.PARTIAL_FILL, "5", "e2", last_qty=shares(2), last_price=price("100.5"))
    order = apply(order_in(S.NEW), event)
    assert order.fills == (
        Fill(None, shares(3), None, T1),
        Fill("e2", shares(2), price("100.5"), T1),
    )


def test_update_for_another_broker_order_is_refused() -> None:
    with pytest.raises(MismatchedUpdateError):
        apply(order_in(S.NEW), update(K.CANCELED, broker_id="broker-2"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": K.SNAPSHOT}, "SNAPSHOT"),
        ({"kind": K.NEW, "status": S.NEW}, "SNAPSHOT"),
        ({"kind": K.SNAPSHOT, "status": S.PENDING_SUBMIT}, "pending_submit"),
        ({"kind": K.FILL}, "cumulative"),
        ({"kind": K.NEW, "last_price": price(1)}, "quantity"),
        ({"kind": K.NEW, "filled_qty": shares(-1)}, "negative"),
        ({"kind": K.NEW, "avg_price": price(0)}, "positive"),
        ({"kind": K.NEW, "at": datetime(2026, 1, 5)}, "timezone"),
    ],
)
def test_malformed_updates_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrderUpdate(**{"at": T1, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("order_type", "limit_price", "qty"),
    [
        (OrderType.LIMIT, None, "1"),
        (OrderType.MARKET, price("10"), "1"),
        (OrderType.LIMIT, price("0"), "1"),
        (OrderType.MARKET, None, "0"),
    ],
)
def test_malformed_orders_are_refused(order_type: OrderType, limit_price, qty: str) -> None:
    with pytest.raises(ValueError, match=r"limit price|quantity"):
        replace(new_order(), order_type=order_type, limit_price=limit_price, qty=shares(qty))


steps = st.lists(
    st.tuples(
        st.sampled_from([*STREAM_KINDS, K.SNAPSHOT]),
        st.sampled_from(list(ChildOrderStatus.__members__.values())[1:]),
        st.integers(min_value=-2, max_value=4),
        st.booleans(),
        st.sampled_from(["e1", "e2", "e3", "e4", None]),
    ),
    max_size=12,
)


@settings(max_examples=250)
@given(steps=steps)
def test_invariants_hold_under_any_sequence_of_news(steps: list[tuple]) -> None:
    order = new_order()
    for kind, status, delta, with_avg, execution_id in steps:
        cumulative = shares(max(order.filled_qty + delta, 0))
        is_fill = kind in (K.PARTIAL_FILL, K.FILL) or (
            kind is K.SNAPSHOT and status in (S.PARTIALLY_FILLED, S.FILLED)
        )
        news = OrderUpdate(
            kind=kind,
            at=T1,
            status=status if kind is K.SNAPSHOT else None,
            filled_qty=cumulative if is_fill or delta > 0 else None,
            avg_price=price("100.01") if with_avg and cumulative > 0 else None,
            execution_id=execution_id if is_fill else None,
        )
        before = order
        try:
            order = apply(order, news)
        except ChildOrderError:
            continue
        assert before.filled_qty <= order.filled_qty <= order.qty
        assert sum((fill.qty for fill in order.fills), Decimal(0)) == order.filled_qty
        assert (order.status is S.FILLED) == (order.filled_qty == order.qty)
        assert order.needs_price_reread == (order.filled_qty > 0 and order.avg_fill_price is None)
        if before.is_terminal:
            assert order.is_terminal
        ids = [fill.execution_id for fill in order.fills if fill.execution_id]
        assert len(ids) == len(set(ids))


def test_a_fill_seen_first_by_rest_gets_its_execution_from_the_stream_later() -> None:
    snapshot = OrderUpdate(
        kind=K.SNAPSHOT,
        at=T0,
        broker_id="b-1",
        status=S.FILLED,
        filled_qty=QTY,
        avg_price=price("100.01"),
    )
    filled = apply(new_order(), snapshot)
    assert [fill.price for fill in filled.fills] == [None]

    stream_fill = OrderUpdate(
        kind=K.FILL,
        at=T1,
        broker_id="b-1",
        filled_qty=QTY,
        avg_price=price("100.01"),
        execution_id="exec-1",
        last_qty=QTY,
        last_price=price("100.01"),
    )
    named = apply(filled, stream_fill)

    assert named.filled_qty == QTY
    assert [(fill.execution_id, fill.qty, fill.price) for fill in named.fills] == [
        ("exec-1", QTY, price("100.01"))
    ]
    assert apply(named, stream_fill) == named, "the same execution is never counted twice"
