"""trade_updates: delivered in order, cumulative quantities consistent, unique execution ids."""

from decimal import Decimal

import pytest
from simcore_support import COMMON_PATH, limit, make_venue, placed, recorded, settle, step


def test_a_large_order_streams_partials_then_a_fill_with_consistent_cumulatives() -> None:
    venue = make_venue(seed=11, **COMMON_PATH)
    updates = recorded(venue)
    venue.partial_fill_next("PNNY", "800", count=3)  # paper's random partial fills, on cue
    order = venue.submit_order(limit("PNNY", "buy", "3000", "0.4700"))
    for _ in range(30):
        if venue.get_order(order["id"])["status"] == "filled":
            break
        step(venue)
    mine = updates.for_order(order["id"])
    assert [u["event"] for u in mine[:1]] == ["new"]
    fills = mine[1:]
    assert len(fills) >= 4, "three fills of 800, then the rest (in one fill or more)"
    assert [u["event"] for u in fills] == ["partial_fill"] * (len(fills) - 1) + ["fill"]
    cumulative = Decimal(0)
    notional = Decimal(0)
    position = Decimal(0)
    for update in fills:
        qty, price = Decimal(update["qty"]), Decimal(update["price"])
        cumulative += qty
        notional += qty * price
        position += qty
        assert Decimal(update["order"]["filled_qty"]) == cumulative
        assert Decimal(update["order"]["filled_avg_price"]) == (notional / cumulative).quantize(
            Decimal("1e-10")
        )
        assert Decimal(update["position_qty"]) == position
        assert price <= Decimal("0.4700")
    assert cumulative == 3000
    ids = [u["execution_id"] for u in fills]
    assert len(set(ids)) == len(ids)
    assert mine[0]["execution_id"] is None
    timestamps = [u["timestamp"] for u in updates.updates]
    assert timestamps == sorted(timestamps)


def test_every_subscriber_gets_every_update_and_unsubscribe_stops_delivery() -> None:
    venue = make_venue(**COMMON_PATH)
    first, second = recorded(venue), recorded(venue)
    stop = venue.subscribe(lambda update: None)
    placed(venue, limit("AAPL", "buy", "1", "300.00"))
    assert first.updates == second.updates
    assert len(first.updates) == 2
    stop()
    stop()  # idempotent


def test_a_failing_listener_does_not_starve_the_others_or_lose_state() -> None:
    venue = make_venue(**COMMON_PATH)

    def broken(update: object) -> None:
        raise RuntimeError("listener bug")

    venue.subscribe(broken)
    after = recorded(venue)
    venue.submit_order(limit("AAPL", "buy", "1", "300.00", client_order_id="x1"))
    with pytest.raises(RuntimeError, match="listener bug"):
        settle(venue)  # the ack and the fill are published here
    assert [u["event"] for u in after.updates] == ["new", "fill"]
    assert venue.get_order_by_client_id("x1")["status"] == "filled"


def test_state_keeps_the_full_update_history_and_fills() -> None:
    venue = make_venue(**COMMON_PATH)
    order = placed(venue, limit("AAPL", "buy", "1", "300.00"))
    state = venue.state()
    assert [u["event"] for u in state["trade_updates"]] == ["new", "fill"]  # type: ignore[union-attr, index]
    (recorded_order,) = state["orders"]  # type: ignore[misc]
    assert recorded_order["id"] == order["id"]
    assert recorded_order["fills"] == state["fills"]


def test_pending_new_and_pending_cancel_are_a_seeded_minority_by_default() -> None:
    venue = make_venue(seed=5)
    updates = recorded(venue)
    venue.set_halted("PNNY", True)  # the orders rest, so each one can be canceled
    rests = limit("PNNY", "buy", "3", "0.4000")  # $1.20: above the $1 minimum
    ids = [venue.submit_order(rests)["id"] for _ in range(200)]
    settle(venue)
    for order_id in ids:
        venue.cancel_order(order_id)
    settle(venue)
    sequences = [updates.events(order_id) for order_id in ids]
    assert {tuple(events) for events in sequences} <= {
        ("new", "canceled"),
        ("pending_new", "new", "canceled"),
        ("new", "pending_cancel", "canceled"),
        ("pending_new", "new", "pending_cancel", "canceled"),
    }
    pending_new = sum(events[0] == "pending_new" for events in sequences)
    pending_cancel = sum("pending_cancel" in events for events in sequences)
    # Both rare paths occur, and stay rare: the default share is 5 % of 200 draws each.
    assert 0 < pending_new < 40
    assert 0 < pending_cancel < 40
