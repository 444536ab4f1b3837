"""In-flight markers: which plans have an execution that may have sent orders and not reported.

An invocation writes its plan's marker (the whole event, the attempt, when it started) in the
idempotency table before the engine may send anything, and deletes it once the plan's result is
stored. A marker that outlives its plan's deliveries belongs to an execution that died without
a result (killed, out of memory, timed out by Lambda): the sweeper (`plan_executor.sweeper`)
finds it and cleans up after it. The markers share the table (and its TTL attribute) with the
Powertools idempotency records; they expire with them, never before.

Every call raises on error: a marker that cannot be written stops the plan before any order
(fail closed), and one that cannot be read or deleted leaves the sweeper to try again.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from plan_executor.adapters.workflow_claims import EXPIRY_ATTRIBUTE
from plan_executor.domain.events import decode_event_object, encode_event_json

MARKER_KEY_PREFIX: Final = "plan-executor#inflight#"


@dataclass(frozen=True, slots=True)
class InflightMarker:
    """One plan's execution that has not reported yet."""

    plan_id: str
    event: Mapping[str, Any]
    """The RebalancePlanned event as delivered: what the sweeper executes its cleanup for."""
    attempt: str
    """The attempt token of the execution that wrote the marker (its ledger's key)."""
    started_at: datetime
    plan_timestamp: datetime


class InflightMarkers:
    """Markers in the idempotency table (a boto3 DynamoDB client, as the claims use)."""

    def __init__(self, client: Any, table: str, keep_for: timedelta) -> None:
        self._client = client
        self._table = table
        self._keep_for = keep_for

    def find(self, plan_id: str) -> InflightMarker | None:
        answer = self._client.get_item(
            TableName=self._table, Key=_key(plan_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return None if item is None else _marker(item)

    def put(self, marker: InflightMarker) -> None:
        expires = marker.started_at + self._keep_for
        self._client.put_item(
            TableName=self._table,
            Item={
                **_key(marker.plan_id),
                "plan_id": {"S": marker.plan_id},
                "event": {"S": encode_event_json(marker.event)},
                "attempt": {"S": marker.attempt},
                "started_at": {"S": marker.started_at.isoformat()},
                "plan_timestamp": {"S": marker.plan_timestamp.isoformat()},
                EXPIRY_ATTRIBUTE: {"N": str(int(expires.timestamp()))},
            },
        )

    def delete(self, plan_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=_key(plan_id))

    def all(self) -> Iterator[InflightMarker]:
        """Every marker (a filtered scan: the table holds a few records per plan)."""
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(id, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": MARKER_KEY_PREFIX}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield _marker(item)


def _key(plan_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": MARKER_KEY_PREFIX + plan_id}}


def _marker(item: Mapping[str, Any]) -> InflightMarker:
    return InflightMarker(
        plan_id=item["plan_id"]["S"],
        event=decode_event_object(item["event"]["S"]),
        attempt=item["attempt"]["S"],
        started_at=_instant(item["started_at"]["S"]),
        plan_timestamp=_instant(item["plan_timestamp"]["S"]),
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
