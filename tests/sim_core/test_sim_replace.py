"""Replace (a new order replacing the old) and injected rejections."""

from decimal import Decimal

import pytest
from simcore_support import limit, make_venue, market, order_in, refused, step

from alpaca_sim import SimError
from alpaca_sim.errors import UNPROCESSABLE
from alpaca_sim.orders import OrderStatus
from alpaca_sim.rules import check_replaceable


def test_replace_returns_a_new_order_and_the_old_one_becomes_replaced() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    venue.partial_fill_next("AAPL", "3")
    old = venue.submit_order(limit("AAPL", "buy", "10", "270.10"))
    assert old["filled_qty"] == "3"
    venue.script_quote("AAPL", bid="271.00", ask="271.10", ask_size="0")
    new = venue.replace_order(old["id"], {"limit_price": 271.05, "client_order_id": "re-1"})
    assert new["id"] != old["id"]
    assert new["replaces"] == old["id"]
    assert new["qty"] == "7"  # the unfilled remainder carries over
    assert new["limit_price"] == "271.05"
    assert new["client_order_id"] == "re-1"
    replaced = venue.get_order(old["id"])
    assert replaced["status"] == "replaced"
    assert replaced["replaced_by"] == new["id"]
    assert replaced["filled_qty"] == "3"


def test_replace_is_refused_before_routing_and_while_pending() -> None:
    venue = make_venue()
    venue.set_latency(ack_ms=1000, fill_ms=0)
    venue.set_halted("AAPL", True)
    pending = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    assert pending["status"] == "pending_new"
    error = refused(lambda: venue.replace_order(pending["id"], {"limit_price": "201"}))
    assert (error.status, error.code) == (422, UNPROCESSABLE)
    step(venue, 1)
    venue.cancel_order(pending["id"])
    assert venue.get_order(pending["id"])["status"] == "pending_cancel"
    error = refused(lambda: venue.replace_order(pending["id"], {"limit_price": "201"}))
    assert (error.status, error.code) == (422, UNPROCESSABLE)
    for status in (OrderStatus.ACCEPTED, OrderStatus.PENDING_REPLACE, OrderStatus.FILLED):
        with pytest.raises(SimError) as caught:
            check_replaceable(order_in(status))
        assert caught.value.code == UNPROCESSABLE


def test_notional_orders_cannot_be_replaced() -> None:
    venue = make_venue()
    venue.set_halted("SPY", True)
    order = venue.submit_order(
        {"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day", "notional": "50"}
    )
    error = refused(lambda: venue.replace_order(order["id"], {"qty": 1}))
    assert (error.status, error.code, error.message) == (
        422,
        UNPROCESSABLE,
        "notional orders cannot be replaced",
    )


def test_replace_rechecks_buying_power_for_the_difference_only() -> None:
    venue = make_venue()
    venue.set_halted("MSFT", True)
    order = venue.submit_order(limit("MSFT", "buy", "70", "500.00"))  # holds 35,000
    bigger = venue.replace_order(order["id"], {"qty": 80})  # 40,000 fits once 35,000 is freed
    assert Decimal(venue.account()["buying_power"]) == Decimal("125.37")
    error = refused(lambda: venue.replace_order(bigger["id"], {"qty": 81}))
    assert error.message == "insufficient buying power"


def test_injected_rejection_with_an_error_status_refuses_the_next_order_only() -> None:
    venue = make_venue()
    venue.reject_next_order(403, None, "forbidden.")
    error = refused(lambda: venue.submit_order(market("AAPL", "buy", "1")))
    assert error.body() == {"message": "forbidden."}
    assert venue.submit_order(market("AAPL", "buy", "1"))["status"] == "filled"


def test_injected_rejection_with_a_success_status_is_accepted_then_rejected() -> None:
    venue = make_venue()
    venue.set_latency(ack_ms=200, fill_ms=0)
    venue.reject_next_order(200, None, "rejected by venue")
    order = venue.submit_order(market("AAPL", "buy", "1"))
    assert order["status"] == "pending_new"
    step(venue, 0.5)
    rejected = venue.get_order(order["id"])
    assert rejected["status"] == "rejected"
    assert rejected["failed_at"] is not None
    assert Decimal(venue.account()["buying_power"]) == Decimal("40125.37")
