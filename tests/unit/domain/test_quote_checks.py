from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from plan_executor.domain.money import price, shares
from plan_executor.domain.quotes import Quote, QuoteProblem, check_quote

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
MAX_AGE = timedelta(seconds=10)
MAX_SPREAD_BPS = Decimal(100)


def make_quote(
    bid: str = "100.00",
    ask: str = "100.10",
    *,
    bid_size: str = "100",
    ask_size: str = "200",
    age: timedelta = timedelta(0),
) -> Quote:
    return Quote("AAPL", price(bid), price(ask), shares(bid_size), shares(ask_size), NOW - age)


def problem_of(quote: Quote) -> QuoteProblem | None:
    return check_quote(quote, NOW, max_age=MAX_AGE, max_spread_bps=MAX_SPREAD_BPS)


def test_mid_spread_and_spread_bps() -> None:
    quote = make_quote("100.00", "100.10")
    assert quote.mid == Decimal("100.05")
    assert quote.spread == Decimal("0.10")
    assert quote.spread_bps == Decimal("0.10") / Decimal("100.05") * 10_000


def test_fresh_normal_quote_is_usable() -> None:
    assert problem_of(make_quote()) is None


def test_locked_quote_is_usable() -> None:
    assert problem_of(make_quote("100.00", "100.00")) is None


def test_incident_05_crossed_quote_is_rejected() -> None:
    assert problem_of(make_quote("100.10", "100.00")) is QuoteProblem.CROSSED


def test_incident_04_zero_ask_quote_is_rejected() -> None:
    assert problem_of(make_quote("100.00", "0")) is QuoteProblem.ONE_SIDED


@pytest.mark.parametrize(
    ("bid", "ask", "expected"),
    [
        ("0", "100.10", QuoteProblem.ONE_SIDED),
        ("0", "0", QuoteProblem.ZERO_PRICE),
        ("-1", "100.10", QuoteProblem.ZERO_PRICE),
        ("100.00", "-0.01", QuoteProblem.ZERO_PRICE),
        ("NaN", "100.10", QuoteProblem.NOT_A_NUMBER),
        ("100.00", "Infinity", QuoteProblem.NOT_A_NUMBER),
    ],
)
def test_bad_prices_are_rejected(bid: str, ask: str, expected: QuoteProblem) -> None:
    assert problem_of(make_quote(bid, ask)) is expected


@pytest.mark.parametrize(("bid_size", "ask_size"), [("0", "200"), ("100", "0"), ("-5", "200")])
def test_a_side_without_size_is_rejected(bid_size: str, ask_size: str) -> None:
    quote = make_quote(bid_size=bid_size, ask_size=ask_size)
    assert problem_of(quote) is QuoteProblem.ZERO_SIZE


def test_quote_at_the_age_limit_is_usable_and_older_is_stale() -> None:
    assert problem_of(make_quote(age=MAX_AGE)) is None
    assert problem_of(make_quote(age=MAX_AGE + timedelta(microseconds=1))) is QuoteProblem.STALE


def test_quote_from_the_future_beyond_the_age_limit_is_rejected() -> None:
    assert problem_of(make_quote(age=-MAX_AGE)) is None
    future = make_quote(age=-(MAX_AGE + timedelta(seconds=1)))
    assert problem_of(future) is QuoteProblem.FUTURE_DATED


def test_spread_above_the_cap_is_rejected() -> None:
    # 1.00 wide on a 100.50 mid is about 99.5 bps; 1.02 wide is over 100 bps.
    assert problem_of(make_quote("100.00", "101.00")) is None
    assert problem_of(make_quote("100.00", "101.02")) is QuoteProblem.SPREAD_TOO_WIDE


def test_crossed_is_reported_before_staleness() -> None:
    quote = make_quote("100.10", "100.00", age=timedelta(minutes=5))
    assert problem_of(quote) is QuoteProblem.CROSSED


def test_naive_quote_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Quote("AAPL", price("1"), price("2"), shares(1), shares(1), datetime(2026, 1, 5))


def test_spread_bps_refuses_a_non_positive_mid() -> None:
    with pytest.raises(ValueError, match="non-positive mid"):
        _ = make_quote("0", "0").spread_bps
