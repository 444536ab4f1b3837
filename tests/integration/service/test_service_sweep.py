"""The sweep of in-flight plans through the real handler (its schedule's event) on moto's
DynamoDB, S3 and EventBridge and alpaca_sim: which markers it leaves, which it cleans up.

The states a crash leaves (a marker, an in-progress lock) are written here through the real
adapters (InflightMarkers, Powertools' DynamoDB persistence layer); the crashes themselves, with
the deployed timing, are in tests/reliability/test_rel_crash_recovery.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
)
from service_support import (
    LambdaContextStub,
    SimThread,
    current_event,
    emf_blobs,
    invoke,
    published_now,
)
from tests.support.aws_stack import AwsStack

from plan_executor.adapters.inflight_markers import (
    MARKER_KEY_PREFIX,
    InflightMarker,
    InflightMarkers,
)
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.invocation import IDEMPOTENCY_KEY_PREFIX, parse_event
from plan_executor.sweeper import SWEEP_EVENT

PLAN = "mixed-sell-and-buy.json"
MAX_PLAN_AGE = timedelta(seconds=300)
"""service_env's MAX_PLAN_AGE_SECONDS."""


def _markers(stack: AwsStack) -> InflightMarkers:
    return InflightMarkers(stack.client("dynamodb"), stack.idempotency_table, timedelta(days=7))


def _leave_marker(stack: AwsStack, event: dict[str, Any], *, plan_age: timedelta) -> str:
    """What an execution that died leaves: its marker (the plan `plan_age` old)."""
    plan_id = str(event["detail"]["rebalance_plan"]["plan_id"])
    now = datetime.now(UTC)
    _markers(stack).put(
        InflightMarker(
            plan_id=plan_id,
            event=event,
            attempt=f"0001-{now:%Y%m%dT%H%M%SZ}-0badc0de",
            started_at=now,
            plan_timestamp=now - plan_age,
        )
    )
    return plan_id


def _hold_lock(stack: AwsStack, event: dict[str, Any]) -> None:
    """A live execution's in-progress record (Powertools' own write, 600 s of lock)."""
    plan = parse_event(event).detail.rebalance_plan
    layer = DynamoDBPersistenceLayer(
        table_name=stack.idempotency_table, boto3_client=stack.client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="plan_id", payload_validation_jmespath="fingerprint"
    )
    layer.configure(config, key_prefix=IDEMPOTENCY_KEY_PREFIX)
    plan_key = {"plan_id": plan.plan_id, "fingerprint": plan_fingerprint(plan)}
    layer.save_inprogress(data=plan_key, remaining_time_in_millis=600_000)


def _sweep(handler: ModuleType) -> dict[str, list[str]]:
    answer = handler.sweep_handler(dict(SWEEP_EVENT), LambdaContextStub())
    report: dict[str, list[str]] = answer["sweep"]
    return report


def _marker_ids(stack: AwsStack) -> list[str]:
    items = stack.client("dynamodb").scan(TableName=stack.idempotency_table)["Items"]
    return [i["id"]["S"] for i in items if i["id"]["S"].startswith(MARKER_KEY_PREFIX)]


def test_a_sweep_with_no_plan_in_flight_does_nothing(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    report = _sweep(handler)

    assert report == {
        "recovered": [],
        "already_reported": [],
        "in_progress": [],
        "not_yet": [],
        "failed": [],
    }
    assert sim.requests("GET", "/v2/account") == []


def test_a_plan_that_can_still_be_delivered_is_not_the_sweeps(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    plan_id = _leave_marker(aws_stack, current_event(PLAN), plan_age=timedelta(seconds=10))

    report = _sweep(handler)

    assert report["not_yet"] == [plan_id]
    assert _marker_ids(aws_stack) == [MARKER_KEY_PREFIX + plan_id]
    assert sim.order_posts() == []
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


def test_a_sweep_leaves_a_live_execution_alone(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = current_event(PLAN)
    plan_id = _leave_marker(aws_stack, event, plan_age=MAX_PLAN_AGE * 2)
    _hold_lock(aws_stack, event)

    report = _sweep(handler)

    assert report["in_progress"] == [plan_id]
    assert _marker_ids(aws_stack) == [MARKER_KEY_PREFIX + plan_id]
    assert sim.requests("GET", "/v2/orders") == [], "no broker call for a live execution"
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


def test_a_plan_whose_execution_died_before_any_order_is_reported_once(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack, capsys: pytest.CaptureFixture[str]
) -> None:
    event = current_event(PLAN)
    plan_id = _leave_marker(aws_stack, event, plan_age=MAX_PLAN_AGE * 2)

    capsys.readouterr()
    report = _sweep(handler)
    [blob] = emf_blobs(capsys.readouterr().out)
    [published] = aws_stack.result_events(expected=1)
    again = _sweep(handler)

    assert report["recovered"] == [plan_id]
    assert blob["PlansRecovered"] == [1.0]
    assert blob["PlansFailed"] == [1.0], "the recovered plan counts as any plan (its alarms fire)"
    result = published["detail"]
    assert result["plan_id"] == plan_id
    assert result["status"] == "FAILURE"
    assert str(result["reason"]).startswith("recovered: an earlier attempt of this plan ended")
    traded = [o for o in result["orders"] if o["action"] != "HOLD"]
    assert {o["status"] for o in traded} == {"CANCELED"}
    assert all(str(o["reason"]).startswith("not_resumed: ") for o in traded)
    assert sim.order_posts() == [], "a cleanup sends nothing"
    assert _marker_ids(aws_stack) == []
    assert again["recovered"] == []
    assert again["not_yet"] == []
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []
    redelivered = invoke(handler, event, LambdaContextStub())
    assert redelivered["event_id"] == result["event_id"], "the plan's stored answer"


def test_a_reported_plan_only_loses_its_marker(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = published_now(current_event(PLAN), datetime.now(UTC))
    done = invoke(handler, event, LambdaContextStub())
    aws_stack.result_events(expected=1)
    posts = len(sim.order_posts())
    plan_id = _leave_marker(aws_stack, event, plan_age=MAX_PLAN_AGE * 2)  # its delete was lost

    report = _sweep(handler)

    assert done["status"] in {"SUCCESS", "SUCCESS_WITH_SKIPS"}
    assert report["already_reported"] == [plan_id]
    assert _marker_ids(aws_stack) == []
    assert len(sim.order_posts()) == posts
    assert aws_stack.receive_now(aws_stack.results_queue_url) == []


def test_the_sweeper_refuses_any_other_event(handler: ModuleType, sim: SimThread) -> None:
    with pytest.raises(ValueError, match="only its schedule's event"):
        handler.sweep_handler(current_event(PLAN), LambdaContextStub())
    assert sim.order_posts() == []


def test_a_completed_plan_leaves_no_marker(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    invoke(handler, current_event(PLAN), LambdaContextStub())

    assert _marker_ids(aws_stack) == []
