"""Scenario loading, the injectable clock and the session calendar."""

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alpaca_sim import SimClock, SimError, default_scenario, load_scenario, scenario_from_dict
from alpaca_sim.session import SessionCalendar

DEFAULT_JSON = Path(__file__).parents[2] / "src" / "alpaca_sim" / "scenarios" / "default.json"
HOLDINGS = {"AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "SPY", "BRK.B", "TSLA", "JNJ", "XOM"}


def test_default_scenario_is_the_documented_account() -> None:
    scenario = default_scenario()
    assert set(scenario.positions) == HOLDINGS
    assert Decimal(35000) < scenario.cash < Decimal(45000)
    assert scenario.positions["SPY"].qty == Decimal("7.2273576")
    value = scenario.cash + sum(p.qty * scenario.prices[s] for s, p in scenario.positions.items())
    assert Decimal(95000) < value < Decimal(105000)
    assert not scenario.assets["BRK.B"].fractionable
    assert all(scenario.assets[s].fractionable for s in HOLDINGS - {"BRK.B"})
    assert any(a.status == "inactive" for a in scenario.assets.values())
    assert any(a.status == "active" and not a.tradable for a in scenario.assets.values())
    assert all(scenario.spreads[s].ticks[0] == 1 for s in HOLDINGS)  # quoted in whole ticks
    assert scenario.fill_model == "paper"
    assert scenario.clock.start == datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
    assert (scenario.latency.ack_ms, scenario.latency.fill_ms) == (0, 0)
    assert (scenario.rate_limit_per_min, scenario.rate_limit_enabled) == (200, True)
    assert scenario.account_type == "cash"


def test_load_scenario_reads_json_and_yaml(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_JSON.read_text())
    data["name"] = "copy"
    as_json = tmp_path / "s.json"
    as_json.write_text(json.dumps(data))
    assert load_scenario(as_json).name == "copy"
    import yaml  # noqa: PLC0415 - only this test needs it

    as_yaml = tmp_path / "s.yaml"
    as_yaml.write_text(yaml.safe_dump(data))
    assert load_scenario(str(as_yaml)) == load_scenario(as_json)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.pop("symbols"), "'symbols' must be an object"),
        (lambda d: d["symbols"]["AAPL"].update(price="-1"), "'price' must be > 0"),
        (lambda d: d["positions"].update(ZZZ={"qty": "1"}), "unknown symbol 'ZZZ'"),
        (lambda d: d["account"].update(type="joint"), "'type' must be one of"),
        (lambda d: d["account"].update(multiplier=2), "not allowed for a cash account"),
        (lambda d: d["account"].update(shorting_enabled=True), "cannot short"),
        (lambda d: d["account"].update(type="margin", multiplier=4), "needs day_trade_rule"),
        (lambda d: d["market"].update(quote_size_unit="odd"), "'quote_size_unit' must be"),
        (lambda d: d["clock"].update(start="2026-11-24T14:45:00"), "naive datetime"),
        (lambda d: d["latency"].update(ack_ms=-1), "'ack_ms' must be >= 0"),
        (lambda d: d["market"].update(stale_after_seconds=0.5), "stale_after_seconds"),
        (lambda d: d["symbols"]["AAPL"].update(exchange="LSE"), "unknown exchange"),
    ],
)
def test_invalid_scenarios_are_refused_with_a_reason(change, fragment: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(DEFAULT_JSON.read_text())
    change(data)
    with pytest.raises(SimError) as caught:
        scenario_from_dict(data)
    assert caught.value.status == 422
    assert fragment in caught.value.message


def test_manual_clock_moves_only_when_told() -> None:
    start = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
    clock = SimClock(start)
    assert clock.now() == start
    clock.advance(1.5)
    assert clock.now() == start + timedelta(seconds=1.5)
    clock.set(start)
    assert clock.now() == start
    with pytest.raises(ValueError, match="tz-aware"):
        clock.set(datetime(2026, 11, 24, 14, 45))
    with pytest.raises(ValueError, match="non-negative"):
        clock.advance(-1)


def test_scaled_clock_follows_the_injected_wall_clock() -> None:
    wall = [100.0]
    start = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
    clock = SimClock(start, speed=60.0, wall=lambda: wall[0])
    wall[0] = 102.0
    assert clock.now() == start + timedelta(minutes=2)
    clock.speed = 0.0
    wall[0] = 500.0
    assert clock.now() == start + timedelta(minutes=2)


def test_calendar_session_time_and_its_inverse() -> None:
    calendar = SessionCalendar(time(14, 30), time(21, 0), holidays=frozenset({date(2026, 11, 26)}))
    tuesday_noon = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    # Tue 4h + Wed 6.5h + (Thu holiday) + Fri 6.5h + Mon 0.5h
    expected = timedelta(hours=4 + 6.5 + 6.5 + 0.5)
    assert calendar.session_time_between(tuesday_noon, monday) == expected
    assert calendar.instant_after(tuesday_noon, expected) == monday
    assert calendar.next_open(datetime(2026, 11, 25, 21, 0, tzinfo=UTC)) == datetime(
        2026, 11, 27, 14, 30, tzinfo=UTC
    )
    assert calendar.close_for(tuesday_noon) == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert not calendar.is_open(datetime(2026, 11, 28, 15, 0, tzinfo=UTC))  # Saturday


def test_a_weekend_calendar_has_sessions_on_saturday_and_sunday() -> None:
    weekdays = SessionCalendar(time(0), time(23, 59))
    every_day = SessionCalendar(time(0), time(23, 59), weekends=True)
    saturday = date(2026, 11, 28)
    assert weekdays.session_on(saturday) is None
    assert every_day.session_on(saturday) == (
        datetime(2026, 11, 28, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 23, 59, tzinfo=UTC),
    )
    assert every_day.is_open(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
