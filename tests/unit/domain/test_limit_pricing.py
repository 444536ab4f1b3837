from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.enums import Side, Urgency
from plan_executor.domain.money import Bps, Price, price, shares
from plan_executor.domain.pricing import (
    DEFAULT_PROFILES,
    PricingProfile,
    UnpriceableQuoteError,
    differs_from_working,
    holds_working_price,
    is_valid_limit_price,
    limit_price_for_step,
    market_fallback_allowed,
    next_peg,
    round_passive,
    tick_size,
)
from plan_executor.domain.quotes import Quote

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
NORMAL = DEFAULT_PROFILES[Urgency.NORMAL]


def make_quote(bid: str, ask: str) -> Quote:
    return Quote("AAPL", price(bid), price(ask), shares(100), shares(100), NOW)


def walk(side: Side, quote: Quote, profile: PricingProfile) -> list[str]:
    return [str(limit_price_for_step(side, quote, profile, s)) for s in range(profile.step_count)]


@pytest.mark.parametrize(
    ("raw", "side", "expected"),
    [
        ("100.129", Side.BUY, "100.12"),
        ("100.121", Side.SELL, "100.13"),
        ("100.12", Side.BUY, "100.12"),
        ("100.12", Side.SELL, "100.12"),
        ("0.51237", Side.BUY, "0.5123"),
        ("0.51231", Side.SELL, "0.5124"),
        ("1.009", Side.BUY, "1.00"),
        ("0.99999", Side.BUY, "0.9999"),
        ("0.99995", Side.SELL, "1.00"),
    ],
)
def test_round_passive_follows_tick_rules(raw: str, side: Side, expected: str) -> None:
    assert str(round_passive(side, Decimal(raw))) == expected


def test_tick_size_is_a_penny_from_one_dollar_and_sub_penny_below() -> None:
    assert tick_size(Decimal("1")) == Decimal("0.01")
    assert tick_size(Decimal("0.9999")) == Decimal("0.0001")


@pytest.mark.parametrize("candidate", ["290.123", "0", "-1.00", "0.00001"])
def test_invalid_limit_prices(candidate: str) -> None:
    assert not is_valid_limit_price(Decimal(candidate))


def test_round_passive_never_yields_zero() -> None:
    with pytest.raises(ValueError, match="below the smallest tick"):
        round_passive(Side.BUY, Decimal("0.00004"))
    with pytest.raises(ValueError, match="positive"):
        round_passive(Side.SELL, Decimal("0"))


@settings(max_examples=300)
@given(
    raw=st.decimals(min_value="0.0001", max_value="10000", places=8),
    side=st.sampled_from(list(Side)),
)
def test_tick_rounding_is_always_passive_and_valid(raw: Decimal, side: Side) -> None:
    rounded = round_passive(side, raw)
    assert is_valid_limit_price(rounded)
    if side is Side.BUY:
        assert rounded <= raw
        assert raw - rounded < tick_size(raw)
    else:
        assert rounded >= raw
        assert rounded - raw < tick_size(raw)


def test_normal_walk_goes_mid_then_toward_and_through_the_far_touch() -> None:
    quote = make_quote("100.00", "100.20")
    assert walk(Side.BUY, quote, NORMAL) == ["100.10", "100.15", "100.19", "100.25"]
    assert walk(Side.SELL, quote, NORMAL) == ["100.10", "100.05", "100.01", "99.95"]


def test_urgency_picks_where_the_walk_starts() -> None:
    quote = make_quote("100.00", "101.00")
    starts = {
        urgency: limit_price_for_step(Side.BUY, quote, profile, 0)
        for urgency, profile in DEFAULT_PROFILES.items()
    }
    assert starts[Urgency.LOW] < starts[Urgency.NORMAL] < starts[Urgency.HIGH] < quote.ask
    assert starts[Urgency.NORMAL] == quote.mid
    assert starts[Urgency.URGENT] > quote.ask  # marketable at once


def test_through_the_far_step_is_at_least_one_tick_through() -> None:
    # 5 bps of $2.00 is a tenth of a cent: passive rounding alone would land on the touch.
    quote = make_quote("2.00", "2.01")
    assert limit_price_for_step(Side.BUY, quote, NORMAL, 3) == Decimal("2.02")
    assert limit_price_for_step(Side.SELL, quote, NORMAL, 3) == Decimal("1.99")
    sub_dollar = make_quote("1.00", "1.01")
    assert limit_price_for_step(Side.SELL, sub_dollar, NORMAL, 3) == Decimal("0.9995")


def test_incident_04_zero_ask_is_never_priced_from() -> None:
    with pytest.raises(UnpriceableQuoteError, match="ONE_SIDED"):
        limit_price_for_step(Side.BUY, make_quote("100.00", "0"), NORMAL, 0)


def test_incident_05_crossed_quote_is_never_priced_from() -> None:
    with pytest.raises(UnpriceableQuoteError, match="CROSSED"):
        limit_price_for_step(Side.SELL, make_quote("100.20", "100.00"), NORMAL, 0)


def test_incident_05_each_side_prices_from_its_own_touches() -> None:
    # A buy rests on the bid and crosses to the ask; a sell the other way round.
    quote = make_quote("50.00", "60.00")
    low = DEFAULT_PROFILES[Urgency.LOW]
    assert limit_price_for_step(Side.BUY, quote, low, 0) == Decimal("52.00")
    assert limit_price_for_step(Side.SELL, quote, low, 0) == Decimal("58.00")


quotes = st.builds(
    lambda bid, spread: make_quote(str(bid), str(bid + spread)),
    bid=st.decimals(min_value="1", max_value="2000", places=2),
    spread=st.decimals(min_value="0", max_value="5", places=2),
) | st.builds(
    lambda bid, spread: make_quote(str(bid), str(bid + spread)),
    bid=st.decimals(min_value="0.0001", max_value="0.9", places=4),
    spread=st.decimals(min_value="0", max_value="0.05", places=4),
)


@settings(max_examples=300)
@given(
    quote=quotes,
    side=st.sampled_from(list(Side)),
    urgency=st.sampled_from(list(Urgency)),
)
def test_every_step_price_is_a_valid_tick_within_bounds(
    quote: Quote, side: Side, urgency: Urgency
) -> None:
    profile = DEFAULT_PROFILES[urgency]
    steps = [limit_price_for_step(side, quote, profile, s) for s in range(profile.step_count)]
    for step_price in steps:
        assert is_valid_limit_price(step_price)
    inside, through = steps[:-1], steps[-1]
    if side is Side.BUY:
        assert all(quote.bid <= p <= quote.ask for p in inside)
        assert through > quote.ask
        assert steps == sorted(steps)
    else:
        assert all(quote.bid <= p <= quote.ask for p in inside)
        assert through < quote.bid or quote.bid == Decimal("0.0001")
        assert steps == sorted(steps, reverse=True)


def test_step_outside_the_walk_is_refused() -> None:
    with pytest.raises(ValueError, match="step 4"):
        limit_price_for_step(Side.BUY, make_quote("1.00", "1.10"), NORMAL, 4)


def test_incident_08_never_repeg_at_the_same_price() -> None:
    # A one-tick spread: mid, 75% and 95% all round down to the bid for a buy.
    quote = make_quote("10.00", "10.01")
    first = next_peg(Side.BUY, quote, NORMAL, after_step=-1, working=None)
    assert first is not None
    assert (first.step, first.price) == (0, Decimal("10.00"))
    second = next_peg(Side.BUY, quote, NORMAL, after_step=first.step, working=first.price)
    assert second is not None
    assert second.step == 3
    assert second.price != first.price
    assert next_peg(Side.BUY, quote, NORMAL, after_step=3, working=second.price) is None


def test_incident_08_walk_ends_when_no_later_step_differs() -> None:
    quote = make_quote("10.00", "10.01")
    through = limit_price_for_step(Side.SELL, quote, NORMAL, 3)
    assert next_peg(Side.SELL, quote, NORMAL, after_step=2, working=through) is None
    assert not differs_from_working(price("10.00"), price("10.0"))
    assert differs_from_working(price("10.00"), None)


@settings(max_examples=200)
@given(quote=quotes, side=st.sampled_from(list(Side)), urgency=st.sampled_from(list(Urgency)))
def test_a_walk_never_repeats_the_working_price(quote: Quote, side: Side, urgency: Urgency) -> None:
    profile = DEFAULT_PROFILES[urgency]
    working: Price | None = None
    step = -1
    seen = []
    while (peg := next_peg(side, quote, profile, after_step=step, working=working)) is not None:
        assert peg.price != working
        assert peg.step > step
        seen.append(peg.price)
        step, working = peg.step, peg.price
    assert seen  # the first price always exists


def test_one_tick_spread_holds_the_near_touch_through_every_inside_step() -> None:
    # No price lies strictly inside a one-tick spread: every inside step asks for our touch,
    # so the order working there rests on through them instead of the walk skipping them.
    quote = make_quote("10.00", "10.01")
    touches = {Side.BUY: price("10.00"), Side.SELL: price("10.01")}
    for side, touch in touches.items():
        assert [
            holds_working_price(side, quote, NORMAL, step=step, working=touch)
            for step in range(NORMAL.step_count)
        ] == [True, True, True, False]


def test_two_tick_spread_holds_the_mid_and_a_wide_one_walks_on() -> None:
    two_ticks = make_quote("10.00", "10.02")
    assert holds_working_price(Side.BUY, two_ticks, NORMAL, step=1, working=price("10.01"))
    assert holds_working_price(Side.SELL, two_ticks, NORMAL, step=2, working=price("10.01"))
    wide = make_quote("100.00", "100.20")
    assert not holds_working_price(Side.BUY, wide, NORMAL, step=1, working=price("100.10"))
    assert not holds_working_price(Side.SELL, wide, NORMAL, step=1, working=price("100.10"))


def test_no_hold_outside_the_walk() -> None:
    quote = make_quote("10.00", "10.01")
    for step in (-1, NORMAL.step_count):
        assert not holds_working_price(Side.BUY, quote, NORMAL, step=step, working=quote.bid)


@settings(max_examples=200)
@given(
    quote=quotes,
    side=st.sampled_from(list(Side)),
    urgency=st.sampled_from(list(Urgency)),
    data=st.data(),
)
def test_a_step_holds_exactly_when_the_walk_would_not_repeg_to_it(
    quote: Quote, side: Side, urgency: Urgency, data: st.DataObject
) -> None:
    profile = DEFAULT_PROFILES[urgency]
    first = next_peg(side, quote, profile, after_step=-1, working=None)
    assert first is not None
    step = data.draw(st.integers(min_value=first.step + 1, max_value=profile.step_count))
    if step == profile.step_count:
        assert not holds_working_price(side, quote, profile, step=step, working=first.price)
        return
    held = holds_working_price(side, quote, profile, step=step, working=first.price)
    repeg = next_peg(side, quote, profile, after_step=step - 1, working=first.price)
    assert held == (repeg is None or repeg.step != step)


def test_market_fallback_allowed_within_the_cap_and_refused_beyond() -> None:
    arrival_mid = price("100.00")
    near = make_quote("100.20", "100.30")  # a market buy pays about 30 bps over arrival
    assert market_fallback_allowed(Side.BUY, arrival_mid, near, Decimal(50))
    assert not market_fallback_allowed(Side.BUY, arrival_mid, near, Decimal(29))
    # For a sell the same move is in our favour.
    assert market_fallback_allowed(Side.SELL, arrival_mid, near, Decimal(0))
    fallen = make_quote("99.40", "99.50")  # a market sell receives 60 bps under arrival
    assert not market_fallback_allowed(Side.SELL, arrival_mid, fallen, Decimal(50))


def test_market_fallback_refused_on_unusable_quote_or_arrival() -> None:
    assert not market_fallback_allowed(
        Side.BUY, price("100"), make_quote("100.1", "100.0"), Decimal(500)
    )
    assert not market_fallback_allowed(
        Side.BUY, price("0"), make_quote("100.0", "100.1"), Decimal(500)
    )


@pytest.mark.parametrize(
    ("fractions", "through", "message"),
    [
        (("0.5", "0.5"), "5", "increase"),
        (("1.2",), "5", r"\[0, 1\]"),
        (("0.5",), "0", "through_far_bps"),
    ],
)
def test_profile_refuses_inconsistent_settings(
    fractions: tuple[str, ...], through: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PricingProfile(
            fractions=tuple(Decimal(f) for f in fractions),
            through_far_bps=Bps(Decimal(through)),
            step_wait=timedelta(seconds=10),
            market_wait=timedelta(seconds=30),
            market_fallback_cap_bps=Bps(Decimal(50)),
        )


def test_default_profiles_cover_every_urgency() -> None:
    assert set(DEFAULT_PROFILES) == set(Urgency)
    assert DEFAULT_PROFILES[Urgency.URGENT].step_count == 1
