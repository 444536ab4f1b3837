"""Every rejection reason the service writes falls in the class its alarm watches."""

from datetime import UTC, datetime, timedelta

import pytest

from plan_executor.domain.rejection_classes import RejectionClass, rejection_class
from plan_executor.domain.validation import PlanValidationError, Violation
from plan_executor.engine.guards import GuardRejection


@pytest.mark.parametrize(
    ("rail", "detail", "expected"),
    [
        ("kill_switch", "the kill switch is on", RejectionClass.KILL_SWITCH),
        (
            "market_open",
            "the market is closed (next open 2026-01-02T09:30:00-05:00)",
            RejectionClass.MARKET_CLOSED,
        ),
        (
            "plan_age",
            "detail.rebalance_plan.timestamp: max_plan_age (plan is 3h25m05s old)",
            RejectionClass.STALE,
        ),
        (
            "notional_limits",
            "plan trades 300000, above max_plan_notional 250000",
            RejectionClass.LIMITS,
        ),
        ("assets", "XYZ is not a known asset", RejectionClass.LIMITS),
        ("account", "the account is blocked from trading", RejectionClass.ACCOUNT),
        (
            "trading_mode",
            "live credentials, but live trading is not allowed",
            RejectionClass.ACCOUNT,
        ),
        ("market_open", "could not be checked (APIError: 503)", RejectionClass.BROKER_UNAVAILABLE),
        ("account", "could not be checked (TimeoutError: )", RejectionClass.BROKER_UNAVAILABLE),
        ("a_new_rail", "no", RejectionClass.OTHER),
    ],
)
def test_guard_rail_reasons(rail: str, detail: str, expected: RejectionClass) -> None:
    assert rejection_class(GuardRejection(rail, detail).describe()) is expected


def test_a_contract_violation_is_contract() -> None:
    error = PlanValidationError(
        [Violation("detail.rebalance_plan.items[2].trade_amount", "sign_agrees_with_action", "x")]
    )
    assert rejection_class(error.reason) is RejectionClass.CONTRACT


@pytest.mark.parametrize("rule", ["plan_id_reused", "workflow_already_planned"])
def test_a_second_plan_is_duplicate(rule: str) -> None:
    reason = f"detail.rebalance_plan.plan_id: {rule} (this plan id was already executed)"
    assert rejection_class(reason) is RejectionClass.DUPLICATE


def test_a_stale_plan_from_the_contract_is_stale() -> None:
    from plan_executor.domain.events import plan_age_violation  # noqa: PLC0415

    class _Plan:
        timestamp = datetime(2026, 1, 2, 12, tzinfo=UTC)

    violation = plan_age_violation(
        _Plan(),  # type: ignore[arg-type]
        _Plan.timestamp + timedelta(hours=1),
        timedelta(minutes=5),
    )
    assert violation is not None
    assert rejection_class(violation.describe()) is RejectionClass.STALE


@pytest.mark.parametrize("reason", [None, "", "something unforeseen", "guard rail"])
def test_unforeseen_reasons_are_other(reason: str | None) -> None:
    assert rejection_class(reason) is RejectionClass.OTHER
