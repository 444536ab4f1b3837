"""The rule for following a running price within an inside-spread step."""

from datetime import UTC, datetime
from decimal import Decimal

from plan_executor.domain.enums import Side, Urgency
from plan_executor.domain.money import price, shares
from plan_executor.domain.pricing import DEFAULT_PROFILES, price_ran_from
from plan_executor.domain.quotes import Quote

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
NORMAL = DEFAULT_PROFILES[Urgency.NORMAL]


def quote(bid: str, ask: str) -> Quote:
    return Quote("AAPL", price(bid), price(ask), shares(100), shares(100), NOW)


def test_a_price_running_away_is_followed_at_the_same_steps_fraction() -> None:
    live = quote("100.10", "100.30")
    assert price_ran_from(Side.BUY, live, NORMAL, step=0, working=price("100.10")) == Decimal(
        "100.20"
    )
    assert price_ran_from(Side.BUY, live, NORMAL, step=1, working=price("100.15")) == Decimal(
        "100.25"
    )
    falling = quote("99.90", "100.10")
    assert price_ran_from(Side.SELL, falling, NORMAL, step=0, working=price("100.10")) == (
        Decimal("100.00")
    )


def test_a_move_toward_us_or_no_move_is_not_followed() -> None:
    toward = quote("99.95", "100.15")  # mid 100.05
    assert price_ran_from(Side.BUY, toward, NORMAL, step=0, working=price("100.10")) is None
    assert price_ran_from(Side.SELL, toward, NORMAL, step=0, working=price("100.00")) is None
    unchanged = quote("100.00", "100.20")
    assert price_ran_from(Side.BUY, unchanged, NORMAL, step=0, working=price("100.10")) is None


def test_one_tick_is_enough_and_sub_dollar_ticks_count() -> None:
    assert price_ran_from(
        Side.BUY, quote("100.01", "100.21"), NORMAL, step=0, working=price("100.10")
    ) == Decimal("100.11")
    assert price_ran_from(
        Side.BUY, quote("0.5001", "0.5003"), NORMAL, step=0, working=price("0.5001")
    ) == Decimal("0.5002")


def test_only_inside_spread_steps_are_followed() -> None:
    far_away = quote("101.00", "101.20")
    through = len(NORMAL.fractions)
    assert price_ran_from(Side.BUY, far_away, NORMAL, step=through, working=price("100.30")) is None
    urgent = DEFAULT_PROFILES[Urgency.URGENT]
    assert price_ran_from(Side.BUY, far_away, urgent, step=0, working=price("100.30")) is None
