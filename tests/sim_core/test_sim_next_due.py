"""`seconds_until_due`: when a running clock next needs a tick. The clock driver sleeps until
then instead of polling, which is only sound if nothing happens before that instant and ticking
only at those instants gives the same book as ticking often."""

import json
from datetime import timedelta
from decimal import Decimal
from importlib import resources

from simcore_support import START, limit, market, recorded

from alpaca_sim import Venue
from alpaca_sim.clock import SimClock
from alpaca_sim.scenario import Scenario, scenario_from_dict

SPEED = 4.0


class FakeWall:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def running_venue(scenario: Scenario, wall: FakeWall, seed: int = 7) -> Venue:
    return Venue(scenario, seed=seed, clock=SimClock(START, speed=SPEED, wall=wall))


def flow_scenario() -> Scenario:
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    raw = json.loads(text)
    raw["flow"] = {"rate_per_min": 30, "mean_size": 5}
    raw["latency"] = {"ack_ms": 40, "fill_ms": 250}
    return scenario_from_dict(raw)


def test_nothing_is_due_on_an_empty_book_or_on_the_manual_clock() -> None:
    wall = FakeWall()
    venue = running_venue(flow_scenario(), wall)
    assert venue.seconds_until_due() is None

    manual = Venue(flow_scenario(), seed=7)
    manual.submit_order(limit("AAPL", "buy", "1", "1.00"))
    assert manual.seconds_until_due() is None  # time moves only through calls


def test_the_ack_is_due_after_the_ack_latency_in_wall_seconds() -> None:
    wall = FakeWall()
    venue = running_venue(flow_scenario(), wall)
    updates = recorded(venue)
    venue.submit_order(limit("AAPL", "buy", "1", "1.00"))

    due = venue.seconds_until_due()
    assert due == 0.040 / SPEED
    wall.now += due / 2
    venue.tick()
    assert "new" not in updates.events()  # not yet: nothing happens before the due time
    wall.now += due / 2
    venue.tick()
    assert updates.events()[-1] == "new"  # after a pending_new for the rare drawn order


def test_a_working_order_is_due_at_the_next_market_step() -> None:
    wall = FakeWall()
    venue = running_venue(flow_scenario(), wall)
    venue.set_latency(ack_ms=0, fill_ms=0)
    venue.submit_order(limit("AAPL", "buy", "1", "1.00"))  # rests: far below the market

    due = venue.seconds_until_due()
    assert due is not None
    assert 0 < due <= 1.0 / SPEED  # a one-second market step, or a flow arrival before it


def ticked_at_due_instants(venue: Venue, wall: FakeWall, until: float) -> int:
    ticks = 0
    while (due := venue.seconds_until_due()) is not None and wall.now + due <= until:
        wall.now += due
        venue.tick()
        ticks += 1
    wall.now = until
    venue.tick()
    return ticks


def ticked_every(venue: Venue, wall: FakeWall, until: float, interval: float) -> None:
    while wall.now + interval <= until:
        wall.now += interval
        venue.tick()
    wall.now = until
    venue.tick()


def place_orders(venue: Venue) -> None:
    quote = venue.latest_quotes(["AAPL", "MSFT"])["quotes"]
    venue.submit_order(market("MSFT", "buy", "3", client_order_id="m1"))
    for n, (symbol, below_bid) in enumerate([("AAPL", "0.01"), ("AAPL", "0"), ("MSFT", "0")]):
        price = Decimal(str(quote[symbol]["bp"])) - Decimal(below_bid)
        venue.submit_order(limit(symbol, "buy", "2", str(price), client_order_id=f"l{n}"))


def published_at(venue: Venue, wall: FakeWall) -> list[tuple[float, str, object]]:
    """(wall time published, event, sim timestamp) of every trade update, as it goes out."""
    seen: list[tuple[float, str, object]] = []
    venue.subscribe(lambda u: seen.append((wall.now, str(u["event"]), u["timestamp"])))
    return seen


def test_ticking_only_when_due_publishes_the_same_updates_no_later_than_polling() -> None:
    often_wall, lazy_wall = FakeWall(), FakeWall()
    often = running_venue(flow_scenario(), often_wall, seed=11)
    lazy = running_venue(flow_scenario(), lazy_wall, seed=11)
    often_seen, lazy_seen = published_at(often, often_wall), published_at(lazy, lazy_wall)
    place_orders(often)
    place_orders(lazy)
    until = often_wall.now + timedelta(minutes=20).total_seconds() / SPEED

    ticked_every(often, often_wall, until, interval=0.002)
    ticks = ticked_at_due_instants(lazy, lazy_wall, until)

    assert [seen[1:] for seen in lazy_seen] == [seen[1:] for seen in often_seen]
    assert lazy.state() == often.state()
    assert {"fill", "partial_fill"} & {event for _, event, _ in lazy_seen}
    late = [
        (lazy_at, often_at, event)
        for (lazy_at, event, _), (often_at, _, _) in zip(lazy_seen, often_seen, strict=True)
        if lazy_at > often_at + 1e-9
    ]
    assert late == []  # every update went out at its due instant, never after a polling tick
    assert ticks < (until - 1000.0) / 0.002 / 10  # far fewer wake-ups than polling
