"""Venue-side fault hooks: orders the venue cancels by itself, fills published without prices."""

from decimal import Decimal

from simcore_support import COMMON_PATH, limit, make_venue, market, recorded, refused, settle, step


def test_the_venue_cancels_the_next_orders_on_the_symbol_once_acknowledged() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    cash = venue.account()["buying_power"]
    venue.cancel_next_orders("AAPL", count=2)
    # Fixed and equal delays: the venue acknowledges the orders in the order they came.
    venue.set_latency(ack_ms=5, fill_ms=5)

    first = venue.submit_order(market("AAPL", "buy", "1"))
    other = venue.submit_order(limit("MSFT", "buy", "1", "400.00"))
    second = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    third = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    settle(venue)

    for order in (first, second):
        canceled = venue.get_order(order["id"])
        assert canceled["status"] == "canceled"
        assert canceled["filled_qty"] == "0"
        assert updates.events(canceled["id"]) == ["new", "canceled"]
    assert venue.get_order(other["id"])["status"] == "new"
    assert venue.get_order(third["id"])["status"] == "new"
    held = Decimal(400) + Decimal(200)
    assert Decimal(str(venue.account()["buying_power"])) == Decimal(str(cash)) - held


def test_a_venue_cancel_armed_for_any_symbol_waits_for_the_acknowledgement() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    venue.set_latency(ack_ms=200, fill_ms=0)
    venue.cancel_next_orders()

    order = venue.submit_order(market("NVDA", "buy", "2"))
    assert order["status"] == "accepted"
    step(venue, 0.2)

    assert venue.get_order(order["id"])["status"] == "canceled"
    assert updates.events(order["id"]) == ["new", "canceled"]
    assert venue.state()["fills"] == []


def test_a_venue_cancel_needs_a_known_symbol_and_a_positive_count() -> None:
    venue = make_venue()
    assert refused(lambda: venue.cancel_next_orders("NOPE")).status == 404
    assert refused(lambda: venue.cancel_next_orders("AAPL", count=0)).status == 422


def test_an_unpriced_fill_hides_its_prices_from_the_stream_and_from_some_reads() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.omit_price_on_next_fill("AAPL", reads=2)

    order = venue.submit_order(market("AAPL", "buy", "3", client_order_id="c-1"))
    settle(venue)
    by_client = venue.get_order_by_client_id("c-1")
    hidden = venue.get_order(order["id"])
    priced = venue.get_order(order["id"])

    fill = updates.for_order(order["id"])[-1]
    assert fill["event"] == "fill"
    assert "price" not in fill
    assert fill["qty"] == "3"
    assert fill["order"]["filled_avg_price"] is None
    assert hidden["status"] == "filled"
    assert hidden["filled_avg_price"] is None
    assert by_client["filled_avg_price"] is None
    [truth] = venue.state()["fills"]
    assert priced["filled_avg_price"] == truth["price"]
    assert venue.list_orders(status="all")[0]["filled_avg_price"] == truth["price"]


def test_only_the_next_fill_on_the_armed_symbol_loses_its_prices() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.omit_price_on_next_fill("MSFT")

    aapl = venue.submit_order(market("AAPL", "buy", "1"))
    venue.submit_order(market("MSFT", "buy", "1"))
    venue.submit_order(market("MSFT", "buy", "1"))
    settle(venue)

    assert "price" in updates.for_order(aapl["id"])[-1]
    msft_fills = [
        u for u in updates.updates if u["event"] == "fill" and u["order"]["symbol"] == "MSFT"
    ]
    assert ["price" in fill for fill in msft_fills] == [False, True]  # the first to execute
    unpriced = venue.get_order(msft_fills[0]["order"]["id"])
    assert unpriced["filled_avg_price"] is not None  # no REST answer was asked to hide it
    assert refused(lambda: venue.omit_price_on_next_fill("AAPL", reads=-1)).status == 422
