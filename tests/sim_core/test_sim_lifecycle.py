"""Order lifecycle through the venue: latency, session hours, expiry, cancels and races."""

from datetime import UTC, datetime, timedelta

from simcore_support import (
    CLOSE,
    COMMON_PATH,
    LATENCY,
    RARE_PATH,
    SETTLE_SECONDS,
    limit,
    make_venue,
    market,
    placed,
    recorded,
    refused,
    settle,
    step,
)


def test_a_marketable_order_is_answered_accepted_and_fills_after_the_venue_acks_it() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    # As recorded from Alpaca (alpaca-py tests/trading/trading_client/test_order_routes.py):
    # the submit is answered before any execution.
    assert (order["status"], order["filled_qty"], order["filled_avg_price"]) == (
        "accepted",
        "0",
        None,
    )
    assert updates.events(order["id"]) == []
    settle(venue)
    assert venue.get_order(order["id"])["status"] == "filled"
    assert updates.events(order["id"]) == ["new", "fill"]


def test_the_rare_path_streams_pending_new_before_new() -> None:
    venue = make_venue(**RARE_PATH)
    updates = recorded(venue)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    assert (order["status"], order["filled_qty"]) == ("pending_new", "0")
    assert updates.events(order["id"]) == ["pending_new"]
    settle(venue)
    assert updates.events(order["id"]) == ["pending_new", "new", "fill"]


def test_the_drawn_delays_stay_within_the_scenario_ranges() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    low = LATENCY.ack.low_ms + LATENCY.fill.low_ms
    for _ in range(20):
        venue.submit_order(limit("PNNY", "buy", "2", "0.9000"))  # $1.80: above the $1 minimum
    submitted = venue.clock.now()
    step(venue, (low - 1) / 1000)
    assert not {"fill", "partial_fill"} & set(updates.events())
    settle(venue)
    first_executions: dict[str, dict[str, object]] = {}
    for update in updates.updates:
        if update["event"] in {"fill", "partial_fill"}:  # paper fills some orders partially
            first_executions.setdefault(update["order"]["id"], update)
    assert len(first_executions) == 20
    delays = {
        datetime.fromisoformat(str(u["timestamp"])) - submitted for u in first_executions.values()
    }
    assert len(delays) > 1  # drawn per order, not one shared figure
    assert all(
        timedelta(milliseconds=low) <= d <= timedelta(seconds=SETTLE_SECONDS) for d in delays
    )


def test_zero_latency_is_an_explicit_opt_out_that_fills_inside_the_call() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    venue.set_latency(ack_ms=0, fill_ms=0)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    assert order["status"] == "filled"
    assert updates.events(order["id"]) == ["new", "fill"]
    venue.restore_latency()  # the scenario's drawn delays again
    assert venue.submit_order(market("AAPL", "buy", "2"))["status"] == "accepted"


def test_ack_latency_keeps_the_order_accepted_until_the_clock_passes_the_ack() -> None:
    venue = make_venue(**COMMON_PATH)
    venue.set_latency(ack_ms=500, fill_ms=0)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    assert order["status"] == "accepted"
    step(venue, 0.4)
    assert venue.get_order(order["id"])["status"] == "accepted"
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


def test_a_cancel_arrives_as_canceled_alone_and_releases_the_hold_on_confirmation() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    venue.set_halted("AAPL", True)
    order = placed(venue, limit("AAPL", "buy", "10", "200.00"))
    venue.set_latency(ack_ms=300, fill_ms=0)
    assert venue.cancel_order(order["id"]) is None
    assert venue.get_order(order["id"])["status"] == "new"  # unchanged until it completes
    assert venue.account()["buying_power"] == "38125.37"
    venue.cancel_order(order["id"])  # a second request while pending is harmless
    step(venue, 0.3)
    canceled = venue.get_order(order["id"])
    assert canceled["status"] == "canceled"
    assert canceled["canceled_at"] is not None
    assert venue.account()["buying_power"] == "40125.37"
    assert updates.events(order["id"]) == ["new", "canceled"]


def test_the_rare_cancel_path_streams_pending_cancel_then_canceled() -> None:
    venue = make_venue(**RARE_PATH)
    updates = recorded(venue)
    venue.set_halted("AAPL", True)
    order = placed(venue, limit("AAPL", "buy", "10", "200.00"))
    venue.cancel_order(order["id"])
    assert venue.get_order(order["id"])["status"] == "pending_cancel"
    venue.cancel_order(order["id"])  # harmless here too
    settle(venue)
    assert venue.get_order(order["id"])["status"] == "canceled"
    assert updates.events(order["id"]) == ["pending_new", "new", "pending_cancel", "canceled"]


def test_an_order_keeps_executing_until_its_cancel_completes() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    venue.script_quote("AAPL", bid="269.00", ask="269.10")
    order = placed(venue, limit("AAPL", "buy", "10", "268.00"))
    venue.set_latency(ack_ms=300, fill_ms=0)
    venue.cancel_order(order["id"])
    venue.script_quote("AAPL", bid="267.80", ask="267.90")  # now marketable: a fill wins
    step(venue, 0.3)
    final = venue.get_order(order["id"])
    assert (final["status"], final["filled_qty"]) == ("filled", "10")
    assert updates.events(order["id"]) == ["new", "fill"]


def test_a_cancel_before_the_ack_wins_when_it_completes_first() -> None:
    venue = make_venue(**COMMON_PATH)
    updates = recorded(venue)
    venue.set_latency(ack_ms=500, fill_ms=0)
    order = venue.submit_order(market("AAPL", "buy", "2"))
    venue.set_latency(ack_ms=100, fill_ms=0)
    venue.cancel_order(order["id"])
    step(venue, 1)
    assert venue.get_order(order["id"])["status"] == "canceled"
    assert updates.events(order["id"]) == ["canceled"]


def test_a_fill_can_win_the_race_against_a_cancel() -> None:
    venue = make_venue()
    updates = recorded(venue)
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    venue.partial_fill_next("AAPL", "4")
    order = placed(venue, limit("AAPL", "buy", "10", "270.10"))
    venue.script_quote("AAPL", bid="271.00", ask="271.20")  # no longer marketable
    venue.race_fill_on_next_cancel("AAPL")
    venue.cancel_order(order["id"])
    final = venue.get_order(order["id"])
    assert final["status"] == "filled"
    assert final["filled_qty"] == "10"
    assert updates.events(order["id"])[-2:] == ["fill", "order_cancel_rejected"]
    race_fill = updates.for_order(order["id"])[-2]
    assert (race_fill["qty"], race_fill["price"]) == ("6", "270.1")  # the remainder at its limit
    assert refused(lambda: venue.cancel_order(order["id"])).status == 422
    other = placed(venue, limit("AAPL", "buy", "1", "250.00"))
    venue.cancel_order(other["id"])  # the race was used up
    settle(venue)
    assert venue.get_order(other["id"])["status"] == "canceled"


def test_race_armed_for_another_symbol_does_not_touch_this_cancel() -> None:
    venue = make_venue()
    venue.race_fill_on_next_cancel("MSFT")
    order = placed(venue, limit("AAPL", "buy", "1", "250.00"))
    venue.cancel_order(order["id"])
    settle(venue)
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
    order = placed(venue, limit("AAPL", "buy", "10", "270.10"))
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
    ioc = placed(venue, limit("AAPL", "buy", "10", "270.10", time_in_force="ioc"))
    assert (ioc["status"], ioc["filled_qty"]) == ("canceled", "4")
    fok_away = placed(venue, limit("AAPL", "buy", "10", "270.05", time_in_force="fok"))
    assert (fok_away["status"], fok_away["filled_qty"]) == ("canceled", "0")
    venue.partial_fill_next("AAPL", "4")  # a fill-or-kill is never cut short
    fok = placed(venue, limit("AAPL", "buy", "10", "270.10", time_in_force="fok"))
    assert (fok["status"], fok["filled_qty"]) == ("filled", "10")


def test_cancel_all_reports_each_order() -> None:
    venue = make_venue()
    venue.set_halted("AAPL", True)
    first = venue.submit_order(limit("AAPL", "buy", "1", "200.00"))
    second = venue.submit_order(limit("AAPL", "buy", "1", "201.00"))
    results = venue.cancel_all_orders()
    assert [(r["id"], r["status"]) for r in results] == [(first["id"], 200), (second["id"], 200)]
    # Each answer shows the order as the request found it: the cancels complete later.
    assert all(r["body"]["status"] != "canceled" for r in results)  # type: ignore[index]
    settle(venue)
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
