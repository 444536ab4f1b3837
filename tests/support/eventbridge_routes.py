"""A queue behind EventBridge rules on a local (moto) bus: what tests read routed events from."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any


def queue_behind_rules(
    events: Any, sqs: Any, bus: str, patterns: Mapping[str, Any]
) -> tuple[str, str]:
    """A new queue that every rule in `patterns` (name -> event pattern) on `bus` targets;
    returns its URL and ARN."""
    suffix = uuid.uuid4().hex[:8]
    url: str = sqs.create_queue(QueueName=f"routed-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for name, pattern in patterns.items():
        rule = f"{name}-{suffix}"
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url, arn
