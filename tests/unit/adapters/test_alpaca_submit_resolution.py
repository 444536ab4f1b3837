"""A submit whose outcome is unknown is resolved by looking the client_order_id up; a duplicate
id is only ever looked up; a 422 that may be a duplicate in unseen words is looked up and stands
as the rejection only when nothing of ours can be there. Scripted fakes stand in for the two HTTP
calls."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from plan_executor.adapters.alpaca_errors import (
    AmbiguousRefusal,
    DuplicateClientOrderId,
    TransientBrokerError,
)
from plan_executor.adapters.alpaca_http import RetryPolicy
from plan_executor.adapters.alpaca_orders import submit_resolving_unknowns
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Shares
from plan_executor.ports import BrokerOrder, BrokerUnavailable, OrderRejected

CLIENT_ID = "abc-AAPL-b-1"
AT = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
PLACED = BrokerOrder(
    broker_id="61e69015-8549-4bfd-b9c3-01e75843f47d",
    client_order_id=CLIENT_ID,
    symbol="AAPL",
    side=Side.BUY,
    order_type=OrderType.MARKET,
    qty=Shares(Decimal(1)),
    limit_price=None,
    status=ChildOrderStatus.NEW,
    filled_qty=Shares(Decimal(0)),
    filled_avg_price=None,
    submitted_at=AT,
    updated_at=AT,
)

Outcome = BrokerOrder | None | Exception


def unknown(status: int | None = 504) -> TransientBrokerError:
    return TransientBrokerError("gateway timeout", status=status, outcome_unknown=True)


def rate_limited() -> TransientBrokerError:
    return TransientBrokerError("429", status=429, outcome_unknown=False)


def duplicate() -> DuplicateClientOrderId:
    return DuplicateClientOrderId("client_order_id must be unique", code=40010001, status=422)


def ambiguous() -> AmbiguousRefusal:
    return AmbiguousRefusal(
        OrderRejected("HTTP 422: unprocessable (42210000)", code=42210000, status=422)
    )


class Script:
    """Plays back outcomes for posts and lookups and records the call sequence."""

    def __init__(self, posts: list[Outcome], lookups: list[Outcome] | None = None) -> None:
        self._posts = list(posts)
        self._lookups = list(lookups or [])
        self.calls: list[str] = []
        self.pauses: list[int] = []

    async def post(self) -> BrokerOrder:
        self.calls.append("post")
        outcome = self._posts.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert outcome is not None
        return outcome

    async def lookup(self) -> BrokerOrder | None:
        self.calls.append("lookup")
        outcome = self._lookups.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def pause(self, failures: int, _: TransientBrokerError) -> None:
        self.pauses.append(failures)

    async def submit(self, attempts: int = 4) -> BrokerOrder:
        return await submit_resolving_unknowns(
            CLIENT_ID,
            post_once=self.post,
            lookup_once=self.lookup,
            policy=RetryPolicy(attempts=attempts, base_s=0.1, cap_s=1.0),
            pause=self.pause,
        )


async def test_a_clean_submit_is_one_post() -> None:
    script = Script(posts=[PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post"]


async def test_an_unknown_outcome_that_committed_is_found_not_resent() -> None:
    script = Script(posts=[unknown()], lookups=[PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "lookup"]
    assert script.pauses == [1]


async def test_an_unknown_outcome_that_did_not_commit_resends_the_same_id() -> None:
    script = Script(posts=[unknown(), PLACED], lookups=[None])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "lookup", "post"]


async def test_a_rate_limited_submit_is_resent_without_a_lookup() -> None:
    script = Script(posts=[rate_limited(), rate_limited(), PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "post", "post"]
    assert script.pauses == [1, 2]


async def test_a_duplicate_id_is_looked_up_at_once_and_never_resent() -> None:
    script = Script(posts=[duplicate()], lookups=[PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "lookup"]
    assert script.pauses == []


async def test_a_duplicate_not_yet_visible_is_looked_up_again_never_posted() -> None:
    script = Script(posts=[duplicate()], lookups=[None, None, PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "lookup", "lookup", "lookup"]


async def test_a_failed_lookup_keeps_the_lookup_pending() -> None:
    script = Script(posts=[unknown()], lookups=[unknown(503), PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "lookup", "lookup"]


async def test_after_a_duplicate_a_lost_lookup_never_turns_into_a_post() -> None:
    script = Script(posts=[unknown(), duplicate()], lookups=[None, None, None, None])

    with pytest.raises(BrokerUnavailable):
        await script.submit()

    assert script.calls == ["post", "lookup", "post", "lookup", "lookup", "lookup"]


async def test_transient_failures_are_bounded() -> None:
    script = Script(posts=[unknown(), unknown(), unknown()], lookups=[None, None, unknown()])

    with pytest.raises(BrokerUnavailable, match="4 attempts"):
        await script.submit(attempts=4)

    assert script.pauses == [1, 2, 3]
    assert script.calls == ["post", "lookup", "post", "lookup", "post", "lookup"]


async def test_a_business_rejection_propagates_at_once() -> None:
    rejection = OrderRejected("insufficient buying power", code=40310000, status=403)
    script = Script(posts=[rejection])

    with pytest.raises(OrderRejected) as raised:
        await script.submit()

    assert raised.value is rejection
    assert script.calls == ["post"]


async def test_a_rejection_of_the_resend_propagates() -> None:
    rejection = OrderRejected("wash trade", code=40310000, status=403)
    script = Script(posts=[unknown(), rejection], lookups=[None])

    with pytest.raises(OrderRejected):
        await script.submit()


async def test_a_422_whose_order_is_there_resolves_to_it_without_a_second_send() -> None:
    script = Script(posts=[ambiguous()], lookups=[PLACED])

    assert await script.submit() is PLACED
    assert script.calls == ["post", "lookup"]
    assert script.pauses == []


async def test_a_422_whose_order_is_not_there_is_the_rejection() -> None:
    refusal = ambiguous()
    script = Script(posts=[refusal], lookups=[None])

    with pytest.raises(OrderRejected) as raised:
        await script.submit()

    assert raised.value is refusal.rejection
    assert script.calls == ["post", "lookup"]


async def test_a_422_after_a_lost_answer_is_looked_up_until_found_never_resent() -> None:
    script = Script(posts=[unknown(), ambiguous()], lookups=[None, None, PLACED])

    assert await script.submit(attempts=4) is PLACED
    assert script.calls == ["post", "lookup", "post", "lookup", "lookup"]


async def test_a_422_after_a_lost_answer_never_stands_as_a_rejection() -> None:
    script = Script(posts=[unknown(), ambiguous()], lookups=[None, None, None, None])

    with pytest.raises(BrokerUnavailable):
        await script.submit(attempts=4)

    assert script.calls.count("post") == 2


async def test_a_422_after_a_rate_limit_may_stand_as_the_rejection() -> None:
    script = Script(posts=[rate_limited(), ambiguous()], lookups=[None])

    with pytest.raises(OrderRejected):
        await script.submit()

    assert script.calls == ["post", "post", "lookup"]


async def test_a_failed_lookup_after_a_422_is_asked_again_before_judging() -> None:
    script = Script(posts=[ambiguous()], lookups=[unknown(503), None])

    with pytest.raises(OrderRejected):
        await script.submit()

    assert script.calls == ["post", "lookup", "lookup"]
