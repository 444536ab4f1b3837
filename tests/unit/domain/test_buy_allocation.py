from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.allocation import (
    AllocationReason,
    BuyAllocation,
    BuyRequest,
    allocate_buys,
    spendable,
)
from plan_executor.domain.money import Dollars, dollars

RESERVE = Decimal("0.02")
MINIMUM = dollars("1")


def allocate(requests: list[BuyRequest], available: str) -> list[BuyAllocation]:
    return allocate_buys(
        requests, dollars(available), reserve_fraction=RESERVE, min_notional=MINIMUM
    )


def by_symbol(allocations: list[BuyAllocation]) -> dict[str, BuyAllocation]:
    return {allocation.symbol: allocation for allocation in allocations}


def test_everything_granted_when_buying_power_suffices() -> None:
    requests = [BuyRequest("AAPL", 1, dollars("500")), BuyRequest("MSFT", 2, dollars("300.456"))]
    result = allocate(requests, "10000")
    assert [a.granted for a in result] == [Decimal("500.00"), Decimal("300.45")]
    assert {a.reason for a in result} == {AllocationReason.IN_FULL}


def test_reserve_for_the_collar_is_held_back() -> None:
    assert spendable(dollars("1000"), RESERVE) == Decimal("980.00")
    result = allocate([BuyRequest("AAPL", 1, dollars("1000"))], "1000")
    assert result[0].granted == Decimal("980.00")
    assert result[0].reason is AllocationReason.REDUCED_PRO_RATA


def test_short_funds_go_to_priority_one_first_then_pro_rata_at_the_margin() -> None:
    requests = [
        BuyRequest("A", 1, dollars("600")),
        BuyRequest("B", 2, dollars("500")),
        BuyRequest("C", 2, dollars("1500")),
        BuyRequest("D", 3, dollars("100")),
    ]
    result = by_symbol(allocate(requests, "2000"))  # 1960.00 after the reserve
    assert result["A"].granted == Decimal("600.00")
    assert result["A"].reason is AllocationReason.IN_FULL
    # 1360 left for 2000 asked at priority 2: 68% each.
    assert result["B"].granted == Decimal("340.00")
    assert result["C"].granted == Decimal("1020.00")
    assert result["B"].reason is result["C"].reason is AllocationReason.REDUCED_PRO_RATA
    assert result["D"].granted == 0
    assert result["D"].reason is AllocationReason.NO_FUNDS_LEFT


def test_pro_rata_grants_round_down_to_the_cent() -> None:
    requests = [BuyRequest(symbol, 1, dollars("100")) for symbol in ("A", "B", "C")]
    result = allocate(requests, "102.05")  # 100.00 after the reserve, a third each
    assert [a.granted for a in result] == [Decimal("33.33")] * 3


def test_requests_below_the_minimum_get_nothing_and_cost_nothing() -> None:
    requests = [BuyRequest("TINY", 1, dollars("0.99")), BuyRequest("BIG", 2, dollars("50"))]
    result = by_symbol(allocate(requests, "100"))
    assert result["TINY"].granted == 0
    assert result["TINY"].reason is AllocationReason.BELOW_MIN_NOTIONAL
    assert result["BIG"].granted == Decimal("50.00")


def test_pro_rata_share_below_the_minimum_is_dropped_and_the_rest_reshared() -> None:
    requests = [BuyRequest("BIG", 1, dollars("1000")), BuyRequest("SMALL", 1, dollars("1.50"))]
    result = by_symbol(allocate(requests, "510.21"))  # 500.00 to share
    assert result["SMALL"].granted == 0
    assert result["SMALL"].reason is AllocationReason.BELOW_MIN_NOTIONAL
    assert result["BIG"].granted == Decimal("500.00")


def test_reshared_grant_never_exceeds_the_request() -> None:
    requests = [BuyRequest("A", 1, dollars("1.50")), BuyRequest("B", 1, dollars("1.50"))]
    result = allocate(requests, "1.64")  # 1.60 to share: 0.80 each is too small
    granted = sorted(a.granted for a in result)
    assert granted == [Decimal("0"), Decimal("1.50")]


@pytest.mark.parametrize("available", ["0", "-250.00"])
def test_latent_zero_buying_power_does_not_raise(available: str) -> None:
    result = allocate([BuyRequest("AAPL", 1, dollars("500"))], available)
    assert result[0].granted == 0
    assert result[0].reason is AllocationReason.NO_FUNDS_LEFT


def test_no_requests_give_no_allocations() -> None:
    assert allocate([], "1000") == []


def test_reserve_fraction_outside_zero_to_one_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="reserve_fraction"):
        spendable(dollars("100"), Decimal("1"))


requests_strategy = st.lists(
    st.builds(
        BuyRequest,
        symbol=st.text(alphabet="ABCDEFGH", min_size=1, max_size=4),
        priority=st.integers(min_value=1, max_value=5),
        amount=st.decimals(min_value="0", max_value="50000", places=3).map(dollars),
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(
    requests=requests_strategy,
    available=st.decimals(min_value="-100", max_value="200000", places=2).map(dollars),
    reserve=st.decimals(min_value="0", max_value="0.1", places=3),
)
def test_allocations_never_exceed_what_is_available(
    requests: list[BuyRequest], available: Dollars, reserve: Decimal
) -> None:
    result = allocate_buys(requests, available, reserve_fraction=reserve, min_notional=MINIMUM)
    assert [a.symbol for a in result] == [r.symbol for r in requests]
    assert sum((a.granted for a in result), Decimal(0)) <= spendable(available, reserve)
    for allocation in result:
        assert allocation.granted == allocation.granted.quantize(Decimal("0.01"))
        assert 0 <= allocation.granted <= allocation.requested
        assert allocation.granted == 0 or allocation.granted >= MINIMUM
    reduced = [
        r.priority
        for r, a in zip(requests, result, strict=True)
        if a.reason is AllocationReason.REDUCED_PRO_RATA
    ]
    if reduced:
        # Nothing of a lower priority than the marginal level got anything.
        marginal = min(reduced)
        for request, allocation in zip(requests, result, strict=True):
            if request.priority > marginal:
                assert allocation.granted == 0
