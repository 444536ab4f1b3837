"""The plan rule, as template.yaml writes it with its defaults, routes alchemiser's events and
nothing else: matched by EventBridge's own pattern semantics (moto's, in server mode), on the
producer's bus, not by a comparison of strings in this test."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cfn_template import Template, resolve_with_defaults
from tests.support.alchemiser_producer import PRODUCER_BUS, saved_events
from tests.support.aws_stack import LocalMotoServer, local_client

RESULT_LIKE = {"source": "plan-executor", "detail-type": "ExecutionResult"}


@pytest.fixture
def plan_rule(template: Template) -> dict[str, Any]:
    rule = template["Resources"]["PlanRequestedRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBusName"}
    pattern = {
        key: [resolve_with_defaults(value, template) for value in values]
        for key, values in rule["EventPattern"].items()
    }
    return {"pattern": pattern}


@pytest.fixture
def routed_queue(moto_server: LocalMotoServer, plan_rule: dict[str, Any]) -> Iterator[str]:
    """The producer's bus with the template's rule on it, routing to a queue we can read."""
    url = moto_server.endpoint_url
    events, sqs = local_client("events", url), local_client("sqs", url)
    suffix = uuid.uuid4().hex[:8]
    bus = f"{PRODUCER_BUS}-{suffix}"
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"plans-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rule = f"plan-requested-{suffix}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(plan_rule["pattern"]))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    yield f"{bus}|{queue_url}"
    events.remove_targets(Rule=rule, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=rule, EventBusName=bus)
    events.delete_event_bus(Name=bus)
    sqs.delete_queue(QueueUrl=queue_url)


def _put_and_read(moto_server: LocalMotoServer, routed: str, entry: dict[str, Any]) -> list[Any]:
    bus, queue_url = routed.split("|")
    url = moto_server.endpoint_url
    events, sqs = local_client("events", url), local_client("sqs", url)
    response = events.put_events(
        Entries=[
            {
                "Source": entry["source"],
                "DetailType": entry["detail-type"],
                "Detail": json.dumps(entry.get("detail", {})),
                "EventBusName": bus,
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    # moto delivers to SQS targets inside the PutEvents call: the queue is complete now.
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_the_rule_defaults_are_the_producers_source_and_detail_type(
    plan_rule: dict[str, Any], template: Template
) -> None:
    assert plan_rule["pattern"] == {
        "source": ["alchemiser.portfolio"],
        "detail-type": ["RebalancePlanned"],
    }
    assert "alchemiser-<stage>-events" in template["Parameters"]["EventBusName"]["Description"]


def test_a_producer_event_on_the_producers_bus_reaches_the_function(
    moto_server: LocalMotoServer, routed_queue: str
) -> None:
    event = saved_events()["alchemiser-rebalance-planned.json"]
    [delivered] = _put_and_read(moto_server, routed_queue, event)
    assert delivered["source"] == "alchemiser.portfolio"
    assert (
        delivered["detail"]["rebalance_plan"]["plan_id"]
        == (event["detail"]["rebalance_plan"]["plan_id"])
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"source": "alchemiser.strategy", "detail-type": "SignalGenerated"},
        {"source": "alchemiser.strategy", "detail-type": "RebalancePlanned"},
        {"source": "alchemiser.portfolio", "detail-type": "WorkflowFailed"},
        {"source": "alchemiser.execution", "detail-type": "TradeExecuted"},
        RESULT_LIKE,
    ],
    ids=["signal", "wrong-source", "workflow-failed", "trade-executed", "our-own-result"],
)
def test_other_events_on_the_bus_do_not_reach_the_function(
    moto_server: LocalMotoServer, routed_queue: str, entry: dict[str, Any]
) -> None:
    assert _put_and_read(moto_server, routed_queue, entry) == []
