"""One plan per upstream workflow: alchemiser re-planning one workflow (same correlation id, a new
plan id with a later epoch) is refused before any order, through the real handler, moto and
alpaca_sim; the claim itself is one conditional write that fails closed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from service_support import SimThread, current_event, invoke
from tests.support.aws_faults import FaultInjector, json_api_error
from tests.support.aws_stack import FAKE_CREDENTIALS, AwsStack

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.workflow_claims import WorkflowClaims

PRODUCER_EVENT = "alchemiser-rebalance-planned.json"


def _replanned(event: dict[str, Any], seconds_later: int = 7) -> dict[str, Any]:
    """What the producer publishes when its portfolio step runs again for the same workflow."""
    again = copy.deepcopy(event)
    plan = again["detail"]["rebalance_plan"]
    prefix, epoch = plan["plan_id"].rsplit("_", 1)
    plan["plan_id"] = f"{prefix}_{int(epoch) + seconds_later}"
    again["id"] = again["id"][:-4] + "beef"
    return again


def test_a_second_plan_of_one_workflow_is_refused_and_sends_nothing(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    first = current_event(PRODUCER_EVENT)
    assert invoke(handler, first)["status"] == "SUCCESS"
    posts = len(sim.order_posts())

    second = _replanned(first)
    result = invoke(handler, second)

    assert result["status"] == "REJECTED"
    assert "workflow_already_planned" in result["reason"]
    assert first["detail"]["rebalance_plan"]["plan_id"] in result["reason"]
    assert len(sim.order_posts()) == posts
    published = aws_stack.result_events(expected=2)
    assert [event["detail"]["status"] for event in published] == ["SUCCESS", "REJECTED"]
    # A refusal of the plan itself is stored: the redelivery is served, not judged again.
    again = invoke(handler, second)
    assert again["event_id"] == result["event_id"]


def test_the_rule_can_be_turned_off(
    handler: ModuleType, sim: SimThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKFLOW_CLAIM_HOURS", "0")
    first = current_event(PRODUCER_EVENT)
    assert invoke(handler, first)["status"] == "SUCCESS"

    second = _replanned(first)
    second["detail"]["rebalance_plan"]["items"] = [
        item for item in second["detail"]["rebalance_plan"]["items"] if item["action"] == "HOLD"
    ]
    assert invoke(handler, second)["status"] == "SUCCESS"


@pytest.fixture
def claims(aws_stack: AwsStack) -> WorkflowClaims:
    """Claims over a client with the service's timeouts and one attempt: what is tested is the
    claim's own answer to an error, not botocore's retries (its DynamoDB default is ten
    attempts with pauses of up to 20 s, the service's three with up to 3 s)."""
    aws = AwsConfig(region=aws_stack.region, endpoint_url=aws_stack.endpoint_url)
    client = boto3.client("dynamodb", **aws.client_kwargs(max_attempts=1), **FAKE_CREDENTIALS)
    return WorkflowClaims(client, aws_stack.idempotency_table, timedelta(hours=24))


NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_a_claim_belongs_to_its_plan_until_the_window_ends(claims: WorkflowClaims) -> None:
    assert claims.claim("workflow-1", "plan-a", NOW) is None
    assert claims.claim("workflow-1", "plan-a", NOW + timedelta(minutes=5)) is None
    holder = claims.claim("workflow-1", "plan-b", NOW + timedelta(hours=23))
    assert holder is not None
    assert holder.plan_id == "plan-a"
    assert claims.claim("workflow-2", "plan-b", NOW) is None
    assert claims.claim("workflow-1", "plan-b", NOW + timedelta(hours=25, minutes=6)) is None


def test_a_claim_that_cannot_be_written_raises_instead_of_letting_the_plan_through(
    claims: WorkflowClaims, aws_faults: FaultInjector
) -> None:
    aws_faults.add(json_api_error("dynamodb", "PutItem", "InternalServerError", 500, times=None))
    with pytest.raises(ClientError):
        claims.claim("workflow-1", "plan-a", NOW)
