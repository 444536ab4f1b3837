"""The engine's cancels when the broker refuses them, in recorded Alpaca bodies
(tests/support/alpaca_error_bodies.py): the item ends on what the broker says the order is,
never on the refusal's words."""

import json
from decimal import Decimal

import pytest
from engine_sim_views import (
    ORDERS_PATH,
    api_log,
    assert_result_matches_sim,
    open_orders,
    orders_of,
    positions,
)
from engine_support import EngineHarness, full_exit, plan_detail, plan_time
from tests.support.alpaca_error_bodies import Meaning, RecordedBody, bodies

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import ItemStatus

PAST_CANCELLING = [
    pytest.param(body, id=body.name)
    for body in bodies(operation="cancel", meaning=Meaning.PAST_CANCELLING)
]


def wire_body(body: RecordedBody) -> object:
    try:
        return json.loads(body.text)
    except ValueError:
        return body.text


@pytest.mark.parametrize("body", PAST_CANCELLING)
async def test_a_fill_that_wins_the_cancel_answered_with_a_refusal_ends_filled_without_a_resend(
    sim: SimServer, harness: EngineHarness, body: RecordedBody
) -> None:
    held = positions(sim)["AAPL"]
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # our first limit rests
    sim.faults.race_fill_on_next_cancel("AAPL")
    # The cancel reaches the venue, the fill wins, and the answer is the recorded refusal.
    sim.faults.fail_next(
        body.status, method="DELETE", path=f"{ORDERS_PATH}/*", phase="after", body=wire_body(body)
    )

    outcome = await harness.run(plan_detail([full_exit("AAPL", "6100")], plan_time(sim)))

    [order] = orders_of(sim, "AAPL")
    assert order["status"] == "filled"
    assert Decimal(order["filled_qty"]) == held
    assert [e["status"] for e in api_log(sim, "DELETE")] == [body.status]
    [result] = outcome.result.orders
    assert result.status is ItemStatus.FILLED
    assert result.repegs == 0
    assert not result.market_fallback
    assert "AAPL" not in positions(sim)
    assert_result_matches_sim(sim, result)


@pytest.mark.parametrize("body", PAST_CANCELLING)
async def test_a_refusal_that_says_filled_while_the_order_rests_is_not_taken_at_its_word(
    sim: SimServer, harness: EngineHarness, body: RecordedBody
) -> None:
    sim.faults.script_quote("AAPL", bid="271.40", ask="271.50")  # our first limit rests
    # The first cancel is refused before it reaches the venue: the order is still working.
    sim.faults.fail_next(
        body.status, method="DELETE", path=f"{ORDERS_PATH}/*", body=wire_body(body)
    )

    outcome = await harness.run(plan_detail([full_exit("AAPL", "6100")], plan_time(sim)))

    first, *_ = orders_of(sim, "AAPL")
    assert (first["status"], first["filled_qty"]) == ("canceled", "0")
    deletes = api_log(sim, "DELETE", f"{ORDERS_PATH}/{first['id']}")
    assert [e["status"] for e in deletes] == [body.status, 204]  # asked again, then taken
    [result] = outcome.result.orders
    assert result.child_orders[0].filled_qty == 0
    assert result.status is ItemStatus.FILLED
    assert open_orders(sim) == []
    assert "AAPL" not in positions(sim)
    assert_result_matches_sim(sim, result)
