"""Same seed + same calls (manual clock) => identical quotes, ids and fills."""

from datetime import UTC, datetime

from simcore_support import limit, make_venue, market, step

from alpaca_sim import Venue, default_scenario


def drive(venue: Venue) -> None:
    venue.submit_order(market("AAPL", "buy", "3"))
    resting = venue.submit_order(limit("NVDA", "buy", "50", "189.60"))
    venue.submit_order(limit("XOM", "sell", "10.5", "118.00"))
    step(venue, 37)
    venue.script_quote("MSFT", bid="507.00", ask="507.30")
    venue.partial_fill_next("MSFT", "2")
    venue.submit_order(market("MSFT", "buy", "5"))
    step(venue, 120)
    if venue.get_order(resting["id"])["status"] not in {"filled", "canceled"}:
        venue.cancel_order(resting["id"])
    venue.submit_order(
        {
            "symbol": "SPY",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "notional": "2500",
        }
    )
    step(venue, 600)


def test_same_seed_and_calls_give_identical_state() -> None:
    first, second = make_venue(seed=42), make_venue(seed=42)
    drive(first)
    drive(second)
    assert first.state() == second.state()
    assert len(first.state()["fills"]) >= 4  # type: ignore[arg-type]


def test_a_different_seed_gives_a_different_market_and_ids() -> None:
    first, second = make_venue(seed=1), make_venue(seed=2)
    drive(first)
    drive(second)
    assert first.state()["quotes"] != second.state()["quotes"]
    assert first.list_orders(status="all")[0]["id"] != second.list_orders(status="all")[0]["id"]


def test_a_symbols_path_does_not_depend_on_how_often_it_is_looked_at() -> None:
    watched, unwatched = make_venue(seed=5), make_venue(seed=5)
    for _ in range(300):
        step(watched)
        watched.latest_quotes(["AAPL", "TSLA"])
    unwatched.clock.advance(300)
    assert watched.latest_quotes(["AAPL", "TSLA", "JNJ"]) == unwatched.latest_quotes(
        ["AAPL", "TSLA", "JNJ"]
    )


def test_prices_do_not_move_outside_the_session() -> None:
    venue = make_venue(seed=9)
    venue.clock.set(datetime(2026, 11, 24, 21, 0, tzinfo=UTC))
    at_close = venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]
    venue.clock.set(datetime(2026, 11, 25, 14, 30, tzinfo=UTC))
    at_open = venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]
    assert (at_open["bp"], at_open["ap"]) == (at_close["bp"], at_close["ap"])  # type: ignore[index]
    step(venue, 60)
    later = venue.latest_quotes(["AAPL"])["quotes"]["AAPL"]
    assert later["t"] == "2026-11-25T14:31:00.000000Z"  # type: ignore[index]


def test_reset_restores_the_scenario_and_keeps_subscribers() -> None:
    venue = make_venue(seed=3)
    seen: list[object] = []
    venue.subscribe(seen.append)
    drive(venue)
    venue.reset(default_scenario(), seed=3)
    assert venue.state() == make_venue(seed=3).state()
    count = len(seen)
    venue.submit_order(market("AAPL", "buy", "1"))
    assert len(seen) == count + 3
