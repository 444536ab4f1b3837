"""Walk or marketable, per item, from what the engine can observe (docs/design.md 2.9)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from plan_executor.domain.enums import Execution, TradingMode, Urgency, Venue
from plan_executor.domain.execution_choice import (
    DEFAULT_WALK_MIN_SPREAD_TICKS,
    PAPER_NOTE,
    PAPER_REASON,
    URGENT_REASON,
    ChoiceInputs,
    ExecutionChoice,
    choose_execution,
    plan_note,
    spread_in_ticks,
    venue_for,
)
from plan_executor.domain.money import price, shares
from plan_executor.domain.pricing import DEFAULT_PROFILES
from plan_executor.domain.quotes import Quote

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
NORMAL_WALK = DEFAULT_PROFILES[Urgency.NORMAL].walk_duration
WIDE_LIVE = ChoiceInputs(
    venue=Venue.LIVE,
    urgency=Urgency.NORMAL,
    spread_ticks=Decimal(4),
    walk_duration=NORMAL_WALK,
    time_left=timedelta(minutes=9),
)
"""A live NORMAL item with a four-tick spread and time to spare: it walks."""


OPTED_IN_TICKS = 2
"""A threshold a user set (the default, None, walks nothing on live)."""


def choose(inputs: ChoiceInputs, threshold: int | None = OPTED_IN_TICKS) -> ExecutionChoice:
    return choose_execution(inputs, walk_min_spread_ticks=threshold)


def make_quote(bid: str, ask: str) -> Quote:
    return Quote("AAPL", price(bid), price(ask), shares(100), shares(100), NOW)


def test_the_normal_walk_lasts_its_steps_and_the_market_wait() -> None:
    assert 4 * timedelta(seconds=10) + timedelta(seconds=30) == NORMAL_WALK


def test_a_live_item_with_a_wide_spread_and_time_to_spare_walks() -> None:
    choice = choose(WIDE_LIVE)

    assert choice.execution is Execution.WALK
    assert choice.reason == "spread 4 ticks and time for the walk's 70 s"


@pytest.mark.parametrize("urgency", list(Urgency))
def test_paper_is_marketable_whatever_the_urgency_spread_and_time(urgency: Urgency) -> None:
    inputs = replace(WIDE_LIVE, venue=Venue.PAPER, urgency=urgency, spread_ticks=Decimal(40))

    assert choose(inputs) == ExecutionChoice(Execution.MARKETABLE, PAPER_REASON)


def test_urgent_on_live_walks_as_it_always_has_even_at_one_tick_and_short_of_time() -> None:
    inputs = replace(
        WIDE_LIVE, urgency=Urgency.URGENT, spread_ticks=Decimal(1), time_left=timedelta(0)
    )

    assert choose(inputs) == ExecutionChoice(Execution.WALK, URGENT_REASON)


@pytest.mark.parametrize("urgency", [Urgency.LOW, Urgency.NORMAL, Urgency.HIGH])
def test_a_live_item_narrower_than_the_threshold_is_marketable(urgency: Urgency) -> None:
    inputs = replace(WIDE_LIVE, urgency=urgency, spread_ticks=Decimal(1))

    choice = choose(inputs)

    assert choice.execution is Execution.MARKETABLE
    assert (
        choice.reason
        == "spread 1 tick, under the 2 a walk needs: too narrow to beat a market order"
    )


def test_the_threshold_is_inclusive_and_follows_the_setting() -> None:
    at_two = replace(WIDE_LIVE, spread_ticks=Decimal(2))

    assert choose(at_two, threshold=2).execution is Execution.WALK
    assert choose(at_two, threshold=3).execution is Execution.MARKETABLE
    assert choose(replace(WIDE_LIVE, spread_ticks=Decimal(1)), threshold=1).execution is (
        Execution.WALK
    )


def test_a_locked_quote_is_marketable_at_the_default_threshold() -> None:
    assert choose(replace(WIDE_LIVE, spread_ticks=Decimal(0))).execution is Execution.MARKETABLE


def test_a_live_item_short_of_time_for_its_walk_is_marketable() -> None:
    inputs = replace(WIDE_LIVE, time_left=NORMAL_WALK - timedelta(milliseconds=100))

    choice = choose(inputs)

    assert choice.execution is Execution.MARKETABLE
    assert choice.reason == "time left 69.9 s, under the walk's 70 s"


def test_exactly_the_walk_s_duration_left_is_enough_and_no_deadline_is_plenty() -> None:
    assert choose(replace(WIDE_LIVE, time_left=NORMAL_WALK)).execution is Execution.WALK
    assert choose(replace(WIDE_LIVE, time_left=None)).execution is Execution.WALK


def test_the_spread_is_judged_before_the_time_left() -> None:
    inputs = replace(WIDE_LIVE, spread_ticks=Decimal(1), time_left=timedelta(0))

    assert choose(inputs).reason.startswith("spread 1 tick")


@pytest.mark.parametrize(
    ("bid", "ask", "ticks"),
    [
        ("271.40", "271.41", "1"),
        ("508.00", "508.40", "40"),
        ("10.00", "10.00", "0"),
        ("0.4521", "0.4523", "2"),
        ("0.9999", "1.01", "101"),  # across $1: counted in the finer tick
        ("100.005", "100.02", "1.5"),  # off the grid
    ],
)
def test_the_spread_is_counted_in_ticks_of_the_bid(bid: str, ask: str, ticks: str) -> None:
    assert spread_in_ticks(make_quote(bid, ask)) == Decimal(ticks)


@pytest.mark.parametrize(
    ("mode", "venue"),
    [
        (TradingMode.LIVE, Venue.LIVE),
        (TradingMode.PAPER, Venue.PAPER),
        (TradingMode.SIMULATED, Venue.PAPER),
    ],
)
def test_the_venue_follows_the_trading_mode_unless_configured(
    mode: TradingMode, venue: Venue
) -> None:
    assert venue_for(mode, None) is venue
    for configured in Venue:
        assert venue_for(mode, configured) is configured


def test_the_paper_note_is_given_once_when_an_item_was_sent_marketable_on_paper() -> None:
    marketable = ExecutionChoice(Execution.MARKETABLE, PAPER_REASON)
    walk = ExecutionChoice(Execution.WALK, URGENT_REASON)

    assert plan_note(Venue.PAPER, [None, marketable, marketable]) == PAPER_NOTE
    assert plan_note(Venue.PAPER, [None, walk]) is None
    assert plan_note(Venue.PAPER, []) is None
    assert plan_note(Venue.LIVE, [marketable]) is None


@pytest.mark.parametrize("urgency", [Urgency.LOW, Urgency.NORMAL, Urgency.HIGH])
def test_by_default_no_live_spread_is_wide_enough_to_walk(urgency: Urgency) -> None:
    wide = ChoiceInputs(Venue.LIVE, urgency, Decimal(40), timedelta(seconds=70), None)
    choice = choose(wide, threshold=DEFAULT_WALK_MIN_SPREAD_TICKS)
    assert DEFAULT_WALK_MIN_SPREAD_TICKS is None
    assert choice.execution is Execution.MARKETABLE
    assert "bench/execution_cost.py" in choice.reason
