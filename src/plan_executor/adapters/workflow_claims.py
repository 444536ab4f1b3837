"""One plan per upstream workflow: a correlation id is claimed by the first plan that runs.

alchemiser's plan id embeds the planning time (`portfolio_v2_<correlation id>_<epoch>`), so when
its portfolio step runs twice for one workflow (an EventBridge or Lambda retry after it had
already published), the second plan has a new plan id and the plan-id idempotency cannot see
that it is the same workflow. Planned from the same positions before the first plan traded, it
would trade the same rebalance again. The correlation id is the stable key: the first plan of a
workflow claims it in the idempotency table for `window`; another plan id with the same
correlation id inside the window is refused. The same plan id passes again (its own retries).

The claim is one conditional write; an error raises (fail closed: no claim, no trading).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

CLAIM_KEY_PREFIX: Final = "plan-executor#workflow#"
EXPIRY_ATTRIBUTE: Final = "expiration"
"""The table's TTL attribute (shared with the Powertools idempotency records)."""


@dataclass(frozen=True, slots=True)
class WorkflowClaim:
    """Who holds a correlation id: the plan id that claimed it and when."""

    plan_id: str
    claimed_at: str


class WorkflowClaims:
    """Claims correlation ids in the idempotency table (a boto3 DynamoDB client)."""

    def __init__(self, client: Any, table: str, window: timedelta) -> None:
        self._client = client
        self._table = table
        self._window = window

    @property
    def enabled(self) -> bool:
        return self._window > timedelta(0)

    def claim(self, correlation_id: str, plan_id: str, now: datetime) -> WorkflowClaim | None:
        """None when `plan_id` holds the claim (new, its own, or an expired one taken over);
        else the other plan's claim."""
        key = {"id": {"S": CLAIM_KEY_PREFIX + correlation_id}}
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **key,
                    "plan_id": {"S": plan_id},
                    "claimed_at": {"S": now.isoformat()},
                    EXPIRY_ATTRIBUTE: {"N": str(int((now + self._window).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(id) OR plan_id = :plan OR #exp < :now",
                ExpressionAttributeNames={"#exp": EXPIRY_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":plan": {"S": plan_id},
                    ":now": {"N": str(int(now.timestamp()))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as refused:
            return _holder(refused.response.get("Item", {}))
        return None


def _holder(item: dict[str, Any]) -> WorkflowClaim:
    return WorkflowClaim(
        plan_id=item.get("plan_id", {}).get("S", "unknown"),
        claimed_at=item.get("claimed_at", {}).get("S", "unknown"),
    )
