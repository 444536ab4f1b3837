"""Order lifecycle through the venue: latency, session hours, expiry, cancels and races."""

from datetime import UTC, datetime, timedelta

from simcore_support import CLOSE, limit, make_venue, market, recorded, refused, step


def test_zero_latency_marketable_order_is_born_acked_and_filled_in_one_call() -> None:
    venue = make_venue()
    updates = recorded(venue)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    assert order["status"] == "filled"
    assert updates.events(order["id"]) == ["pending_new", "new", "fill"]


def test_ack_latency_keeps_the_order_pending_new_until_the_clock_passes_the_ack() -> None:
    venue = make_venue()
    venue.set_latency(ack_ms=500, fill_ms=0)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    assert order["status"] == "pending_new"
    step(venue, 0.4)
    assert venue.get_order(order["id"])["status"] == "pending_new"
    step(venue, 0.2)
    assert venue.get_order(order["id"])["status"] == "filled"


def test_fill_latency_delays_the_first_execution_after_the_ack() -> None:
    venue = make_venue()
    venue.set_latency(ack_ms=0, fill_ms=1500)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    assert order["status"] == "new"
    step(venue, 1.0)
    assert venue.get_order(order["id"])["status"] == "new"
    step(venue, 1.0)
    assert venue.get_order(order["id"])["status"] == "filled"


def test_cancel_is_asynchronous_with_latency_and_releases_the_hold_on_confirmation() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.set_halted("AAPL", True)
    order = venue.submit_order(limit("AAPL", "buy", "10", "200.00"))
    venue.set_latency(ack_ms=300, fill_ms=0)
    assert venue.cancel_order(order["id"]) is None
    assert venue.get_order(order["id"])["status"] == "pending_cancel"
    assert venue.account()["buying_power"] == "38125.37"
    venue.cancel_order(order["id"])  # a second request while pending is harmless
    step(venue, 0.3)
    canceled = venue.get_order(order["id"])
    assert canceled["status"] == "canceled"
    assert canceled["canceled_at"] is not None
    assert venue.account()["buying_power"] == "40125.37"
    assert updates.events(order["id"]) == ["pending_new", "new", "pending_cancel", "canceled"]


def test_a_fill_can_win_the_race_against_a_cancel() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    venue.partial_fill_next("AAPL", "4")
    order = venue.submit_order(limit("AAPL", "buy", "10", "270.10"))
    venue.script_quote("AAPL", bid="271.00", ask="271.20")  # no longer marketable
    venue.race_fill_on_next_cancel("AAPL")
    venue.cancel_order(order["id"])
    final = venue.get_order(order["id"])
    assert final["status"] == "filled"
    assert final["filled_qty"] == "10"
    assert updates.events(order["id"])[-3:] == ["pending_cancel", "fill", "order_cancel_rejected"]
    race_fill = updates.for_order(order["id"])[-2]
    assert (race_fill["qty"], race_fill["price"]) == ("6", "270.1")  # the remainder at its limit
    assert refused(lambda: venue.cancel_order(order["id"])).status == 422
    other = venue.submit_order(limit("AAPL", "buy", "1", "250.00"))
    venue.cancel_order(other["id"])  # the race was used up
    assert venue.get_order(other["id"])["status"] == "canceled"


def test_race_armed_for_another_symbol_does_not_touch_this_cancel() -> None:
    venue = make_venue()
    venue.race_fill_on_next_cancel("MSFT")
    order = venue.submit_order(limit("AAPL", "buy", "1", "250.00"))
    venue.cancel_order(order["id"])
    assert venue.get_order(order["id"])["status"] == "canceled"


def test_day_orders_expire_when_the_clock_passes_the_close() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.clock.set(CLOSE - timedelta(minutes=1))
    day = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    gtc = venue.submit_order(limit("AAPL", "buy", "1", "200.00", time_in_force="gtc"))
    assert day["expires_at"] == "2026-11-24T21:00:00.000000Z"
    step(venue, 59)
    assert venue.get_order(day["id"])["status"] == "new"
    step(venue, 2)
    expired = venue.get_order(day["id"])
    assert expired["status"] == "expired"
    assert expired["expired_at"] == "2026-11-24T21:00:00.000000Z"
    assert updates.events(day["id"])[-1] == "expired"
    assert venue.get_order(gtc["id"])["status"] == "new"
    assert venue.account()["buying_power"] == "39925.37"  # only the GTC still holds


def test_partially_filled_day_order_expires_with_its_fills() -> None:
    venue = make_venue()
    venue.clock.set(CLOSE - timedelta(seconds=10))
    venue.script_quote("AAPL", bid="270.00", ask="270.10", hold=False)
    venue.partial_fill_next("AAPL", "3")
    order = venue.submit_order(limit("AAPL", "buy", "10", "270.10"))
    assert order["filled_qty"] == "3"
    step(venue, 30)
    expired = venue.get_order(order["id"])
    assert expired["status"] == "expired"
    assert expired["filled_qty"] == "3"


def test_orders_outside_the_session_are_accepted_and_routed_at_the_next_open() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.clock.set(datetime(2026, 11, 24, 22, 0, tzinfo=UTC))
    assert venue.clock_view()["is_open"] is False
    order = venue.submit_order(market("AAPL", "buy", "1"))
    assert order["status"] == "accepted"
    assert order["expires_at"] == "2026-11-25T21:00:00.000000Z"
    venue.clock.set(datetime(2026, 11, 25, 14, 29, 59, tzinfo=UTC))
    venue.tick()
    assert venue.get_order(order["id"])["status"] == "accepted"
    step(venue, 5)
    assert venue.get_order(order["id"])["status"] == "filled"
    assert updates.events(order["id"]) == ["accepted", "new", "fill"]


def test_ioc_cancels_what_it_cannot_fill_at_once_and_fok_all_or_nothing() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    venue.partial_fill_next("AAPL", "4")
    ioc = venue.submit_order(limit("AAPL", "buy", "10", "270.10", time_in_force="ioc"))
    assert (ioc["status"], ioc["filled_qty"]) == ("canceled", "4")
    fok_away = venue.submit_order(limit("AAPL", "buy", "10", "270.05", time_in_force="fok"))
    assert (fok_away["status"], fok_away["filled_qty"]) == ("canceled", "0")
    venue.partial_fill_next("AAPL", "4")  # a fill-or-kill is never cut short
    fok = venue.submit_order(limit("AAPL", "buy", "10", "270.10", time_in_force="fok"))
    assert (fok["status"], fok["filled_qty"]) == ("filled", "10")


def test_cancel_all_reports_each_order() -> None:
    venue = make_venue()
    venue.set_halted("AAPL", True)
    first = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    second = venue.submit_order(limit("AAPL", "buy", "1", "201.00"))
    results = venue.cancel_all_orders()
    assert [(r["id"], r["status"]) for r in results] == [(first["id"], 200), (second["id"], 200)]
    assert all(r["body"]["status"] == "canceled" for r in results)  # type: ignore[index]
    assert venue.list_orders(status="open") == []


def test_clock_view_uses_the_display_offset_and_skips_weekends_and_holidays() -> None:
    venue = make_venue()
    assert venue.clock_view() == {
        "timestamp": "2026-11-24T09:45:00.000000-05:00",
        "is_open": True,
        "next_open": "2026-11-25T09:30:00.000000-05:00",
        "next_close": "2026-11-24T16:00:00.000000-05:00",
    }
    venue.clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=UTC))  # Wednesday night, Thursday off
    view = venue.clock_view()
    assert view["next_open"] == "2026-11-27T09:30:00.000000-05:00"
    assert view["is_open"] is False
