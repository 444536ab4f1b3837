"""`plan-executor send` puts a saved plan, made current, that the template's rule matches.

The rule here is built from template.yaml's PlanRequestedRule pattern (parameters at their
defaults) on moto's EventBridge in server mode, routing to an SQS queue we read back.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.deploy.cfn_template import load_template, resolve_with_defaults
from tests.support.aws_stack import AwsStack

from plan_executor.cli import main
from plan_executor.domain.events import parse_rebalance_event, plan_age_violation

ROOT = Path(__file__).resolve().parents[3]
SAVED_EVENT = ROOT / "events" / "mixed-sell-and-buy.json"


def _template_pattern() -> dict[str, list[str]]:
    template = load_template()
    pattern = template["Resources"]["PlanRequestedRule"]["Properties"]["EventPattern"]
    return {
        key: [resolve_with_defaults(value, template) for value in values]
        for key, values in pattern.items()
    }


@pytest.fixture
def plan_queue(aws_stack: AwsStack, monkeypatch: pytest.MonkeyPatch) -> str:
    """A queue receiving what the template's plan rule matches on the stack's bus."""
    for name, value in aws_stack.aws_env().items():
        monkeypatch.setenv(name, value)
    sqs: Any = aws_stack.client("sqs")
    url = sqs.create_queue(QueueName=f"{aws_stack.results_rule}-plans")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events: Any = aws_stack.client("events")
    rule = f"{aws_stack.results_rule}-plans"
    events.put_rule(
        Name=rule, EventBusName=aws_stack.event_bus, EventPattern=json.dumps(_template_pattern())
    )
    events.put_targets(
        Rule=rule, EventBusName=aws_stack.event_bus, Targets=[{"Id": "plans", "Arn": arn}]
    )
    return str(url)


def test_a_sent_plan_matches_the_rule_and_is_current(
    aws_stack: AwsStack, plan_queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)

    assert main(["send", str(SAVED_EVENT), "--bus", aws_stack.event_bus]) == 0

    (message,) = aws_stack.receive(plan_queue, expected=1)
    delivered = json.loads(message["Body"])
    delivered.setdefault("account", "123456789012")  # moto leaves the envelope's account out
    event = parse_rebalance_event(delivered)
    pattern = _template_pattern()
    assert [event.source] == pattern["source"]
    assert [delivered["detail-type"]] == pattern["detail-type"]
    saved = json.loads(SAVED_EVENT.read_text())
    assert event.detail.rebalance_plan.plan_id == saved["detail"]["rebalance_plan"]["plan_id"]
    assert event.time >= before.replace(microsecond=0)
    assert plan_age_violation(event.detail.rebalance_plan, event.time, timedelta(minutes=5)) is None
    assert f"plan {event.detail.rebalance_plan.plan_id}" in capsys.readouterr().out


def test_a_source_the_rule_does_not_expect_is_not_delivered(
    aws_stack: AwsStack, plan_queue: str
) -> None:
    argv = ["send", str(SAVED_EVENT), "--bus", aws_stack.event_bus, "--source", "someone.else"]
    assert main(argv) == 0
    # A plan the rule takes, put after it: what arrives up to it shows what the rule let through,
    # without waiting for a time to pass (moto routes each PutEvents before answering it).
    assert main(["send", str(SAVED_EVENT), "--bus", aws_stack.event_bus]) == 0
    (first,) = aws_stack.receive(plan_queue, expected=1)
    delivered = [first, *aws_stack.receive_now(plan_queue)]
    assert [json.loads(message["Body"])["source"] for message in delivered] == (
        _template_pattern()["source"]
    )


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["send", str(tmp_path / "missing.json")]) == 2
