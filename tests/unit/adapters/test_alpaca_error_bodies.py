"""Every recorded real Alpaca error body (tests/support/alpaca_error_bodies.py) through the
adapter: the error its translation gives, and what the engine ends up with once the adapter has
resolved it against the broker's real state of the order (a lookup by client_order_id after a
refused submit, a read by id after a refused cancel). The words never decide: each refusal is
also fed with its words replaced, and must end the same."""

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alpaca_samples import api_error
from tests.support.alpaca_error_bodies import BODIES, Meaning, RecordedBody, bodies

from plan_executor.adapters.alpaca_errors import (
    AmbiguousRefusal,
    CancelRefused,
    DuplicateClientOrderId,
    Operation,
    TransientBrokerError,
    translate,
)
from plan_executor.adapters.alpaca_http import RetryPolicy
from plan_executor.adapters.alpaca_orders import refused_cancel_outcome, submit_resolving_unknowns
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import Price, Shares
from plan_executor.ports import (
    BrokerError,
    BrokerOrder,
    OrderNotCancelable,
    OrderNotFound,
    OrderRejected,
)

AT = datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
BROKER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"
PLACED = BrokerOrder(
    broker_id=BROKER_ID,
    client_order_id="abc-AAPL-b-1",
    symbol="AAPL",
    side=Side.BUY,
    order_type=OrderType.LIMIT,
    qty=Shares(Decimal(3)),
    limit_price=Price(Decimal("271.45")),
    status=ChildOrderStatus.NEW,
    filled_qty=Shares(Decimal(0)),
    filled_avg_price=None,
    submitted_at=AT,
    updated_at=AT,
)
UNSEEN_WORDS = "request refused for a reason worded in a way no recorded body used"

EXPECTED_TRANSLATION: dict[tuple[str, Meaning, int], type[BaseException]] = {
    ("submit", Meaning.TAKEN, 409): DuplicateClientOrderId,
    ("submit", Meaning.TAKEN, 422): DuplicateClientOrderId,
    ("submit", Meaning.REFUSED, 403): OrderRejected,
    ("submit", Meaning.REFUSED, 422): AmbiguousRefusal,
    ("submit", Meaning.RETRY, 429): TransientBrokerError,
    ("cancel", Meaning.PAST_CANCELLING, 422): CancelRefused,
    ("cancel", Meaning.NOT_FOUND, 404): OrderNotFound,
    ("read", Meaning.NOT_FOUND, 404): OrderNotFound,
    ("read", Meaning.BAD_ORDER_ID, 422): OrderRejected,
    ("read", Meaning.AUTHENTICATION, 401): BrokerError,
}


def named(recorded: list[RecordedBody]) -> list[object]:
    return [pytest.param(body, id=body.name) for body in recorded]


def translated(body: RecordedBody) -> BrokerError:
    return translate(api_error(body.status, body.text), Operation(body.operation))


def reworded(body: RecordedBody) -> RecordedBody:
    """The same status and code, in words no rule of the adapter knows."""
    try:
        decoded = json.loads(body.text)
    except ValueError:
        decoded = {}
    decoded["message"] = UNSEEN_WORDS
    return dataclasses.replace(body, text=json.dumps(decoded))


class Broker:
    """The two calls of a submit, with the order at the broker or not."""

    def __init__(self, refusal: BrokerError, *, placed: bool) -> None:
        self._refusal = refusal
        self._placed = placed
        self.calls: list[str] = []

    async def post(self) -> BrokerOrder:
        self.calls.append("post")
        raise self._refusal

    async def lookup(self) -> BrokerOrder | None:
        self.calls.append("lookup")
        return PLACED if self._placed else None

    async def submit(self) -> BrokerOrder:
        async def no_pause(_: int, __: TransientBrokerError) -> None:
            return None

        return await submit_resolving_unknowns(
            PLACED.client_order_id,
            post_once=self.post,
            lookup_once=self.lookup,
            policy=RetryPolicy(attempts=3, base_s=0.1, cap_s=1.0),
            pause=no_pause,
        )


def in_state(state: str) -> BrokerOrder:
    return dataclasses.replace(PLACED, status=ChildOrderStatus(state))


def test_every_recorded_body_has_a_source_and_an_expectation() -> None:
    for body in BODIES:
        assert body.source.strip(), body.name
        assert (body.operation, body.meaning, body.status) in EXPECTED_TRANSLATION, body.name
        assert (body.meaning is Meaning.PAST_CANCELLING) is (body.order_state is not None)
    assert len({body.name for body in BODIES}) == len(BODIES)


@pytest.mark.parametrize("body", named(list(BODIES)))
def test_each_recorded_body_translates_by_status_and_operation(body: RecordedBody) -> None:
    expected = EXPECTED_TRANSLATION[(body.operation, body.meaning, body.status)]

    error = translated(body)

    assert type(error) is expected
    if isinstance(error, OrderRejected):
        assert error.status == body.status


@pytest.mark.parametrize("body", named(bodies(operation="submit", meaning=Meaning.TAKEN)))
@pytest.mark.parametrize("words", ["recorded", "unseen"])
async def test_a_taken_id_ends_as_the_order_already_placed_never_a_second_send(
    body: RecordedBody, words: str
) -> None:
    broker = Broker(translated(body if words == "recorded" else reworded(body)), placed=True)

    assert await broker.submit() is PLACED
    assert broker.calls == ["post", "lookup"]


@pytest.mark.parametrize("body", named(bodies(operation="submit", meaning=Meaning.REFUSED)))
@pytest.mark.parametrize("words", ["recorded", "unseen"])
async def test_a_refused_order_ends_as_a_rejection_with_its_status_and_code(
    body: RecordedBody, words: str
) -> None:
    sent = body if words == "recorded" else reworded(body)
    broker = Broker(translated(sent), placed=False)

    with pytest.raises(OrderRejected) as raised:
        await broker.submit()

    assert type(raised.value) is OrderRejected
    assert raised.value.status == body.status
    assert raised.value.code == json.loads(body.text).get("code")
    assert broker.calls == (["post", "lookup"] if body.status == 422 else ["post"])


@pytest.mark.parametrize("body", named(bodies(operation="cancel", meaning=Meaning.PAST_CANCELLING)))
@pytest.mark.parametrize("words", ["recorded", "unseen"])
def test_a_cancel_past_cancelling_ends_with_the_orders_real_terminal_state(
    body: RecordedBody, words: str
) -> None:
    assert body.order_state is not None
    refused = translated(body if words == "recorded" else reworded(body))
    terminal = in_state(body.order_state)

    outcome = refused_cancel_outcome(BROKER_ID, refused, terminal)

    assert isinstance(outcome, OrderNotCancelable)
    assert outcome.order is terminal


@pytest.mark.parametrize("body", named(bodies(operation="cancel", meaning=Meaning.PAST_CANCELLING)))
@pytest.mark.parametrize("state", ["new", "partially_filled", "pending_cancel", "accepted"])
def test_the_same_refusal_of_a_cancel_while_the_order_is_open_leaves_it_open(
    body: RecordedBody, state: str
) -> None:
    outcome = refused_cancel_outcome(BROKER_ID, translated(body), in_state(state))

    assert type(outcome) is BrokerError  # not cancelled, not terminal: the engine asks again
    assert state in str(outcome)
