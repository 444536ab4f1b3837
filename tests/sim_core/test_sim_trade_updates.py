"""trade_updates: delivered in order, cumulative quantities consistent, unique execution ids."""

from decimal import Decimal

import pytest
from simcore_support import limit, make_venue, recorded, step


def test_a_large_order_streams_partials_then_a_fill_with_consistent_cumulatives() -> None:
    venue = make_venue(seed=11)
    updates = recorded(venue)
    venue.partial_fill_next("PNNY", "800", count=3)  # paper's random partial fills, on cue
    order = venue.submit_order(limit("PNNY", "buy", "3000", "0.4700"))
    for _ in range(30):
        if venue.get_order(order["id"])["status"] == "filled":
            break
        step(venue)
    mine = updates.for_order(order["id"])
    assert [u["event"] for u in mine[:2]] == ["pending_new", "new"]
    fills = mine[2:]
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
    assert all(u["execution_id"] is None for u in mine[:2])
    timestamps = [u["timestamp"] for u in updates.updates]
    assert timestamps == sorted(timestamps)


def test_every_subscriber_gets_every_update_and_unsubscribe_stops_delivery() -> None:
    venue = make_venue()
    first, second = recorded(venue), recorded(venue)
    stop = venue.subscribe(lambda update: None)
    venue.submit_order(limit("AAPL", "buy", "1", "300.00"))
    assert first.updates == second.updates
    assert len(first.updates) == 3
    stop()
    stop()  # idempotent


def test_a_failing_listener_does_not_starve_the_others_or_lose_state() -> None:
    venue = make_venue()

    def broken(update: object) -> None:
        raise RuntimeError("listener bug")

    venue.subscribe(broken)
    after = recorded(venue)
    with pytest.raises(RuntimeError, match="listener bug"):
        venue.submit_order(limit("AAPL", "buy", "1", "300.00", client_order_id="x1"))
    assert [u["event"] for u in after.updates] == ["pending_new", "new", "fill"]
    assert venue.get_order_by_client_id("x1")["status"] == "filled"


def test_state_keeps_the_full_update_history_and_fills() -> None:
    venue = make_venue()
    order = venue.submit_order(limit("AAPL", "buy", "1", "300.00"))
    state = venue.state()
    assert [u["event"] for u in state["trade_updates"]] == ["pending_new", "new", "fill"]  # type: ignore[union-attr, index]
    (recorded_order,) = state["orders"]  # type: ignore[misc]
    assert recorded_order["id"] == order["id"]
    assert recorded_order["fills"] == state["fills"]
