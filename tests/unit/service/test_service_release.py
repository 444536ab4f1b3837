"""Which rejections release the plan (judged again when redelivered) and which are stored."""

from datetime import UTC, datetime

import pytest

from plan_executor.domain.enums import TradingMode
from plan_executor.domain.rejections import RejectionContext, SalvagedIds, rejected_result
from plan_executor.engine.guards import GuardRejection
from plan_executor.invocation import releases_plan

MOMENT = datetime(2026, 1, 2, 15, tzinfo=UTC)
ATTEMPT = "0001-20260102T150000Z-0123abcd"


def _rejected(reason: str) -> bool:
    context = RejectionContext("evt-1", MOMENT, MOMENT, TradingMode.PAPER, ATTEMPT)
    ids = SalvagedIds("cause-1", "corr-1", "plan-1")
    return releases_plan(rejected_result(context, reason=reason, ids=ids))


@pytest.mark.parametrize(
    ("rail", "detail"),
    [
        ("kill_switch", "the kill switch is on (halted by a at t)"),
        ("kill_switch", "could not be checked (parameter /x could not be read)"),
        ("market_open", "the market is closed (next open 2026-01-05T14:30:00+00:00)"),
        ("market_open", "could not be checked (BrokerUnavailable: 503)"),
        ("account", "could not be checked (BrokerUnavailable: 503)"),
    ],
)
def test_a_condition_that_can_pass_releases_the_plan(rail: str, detail: str) -> None:
    assert _rejected(GuardRejection(rail, detail).describe())


@pytest.mark.parametrize(
    "reason",
    [
        GuardRejection("plan_age", "plan is 600 s old, above max_plan_age 300 s").describe(),
        GuardRejection("notional_limits", "plan trades 9, above max_plan_notional 1").describe(),
        GuardRejection("assets", "XYZ is not tradable").describe(),
        "detail.rebalance_plan.items: too_short (at least one item)",
        "detail.rebalance_plan.correlation_id: workflow_already_planned (plan p ran)",
    ],
)
def test_a_rejection_of_the_plan_itself_stays_stored(reason: str) -> None:
    assert not _rejected(reason)
