"""What is in the DLQ, decoded for a person: three kinds of message share the one queue.

- `ledger`: part of a ledger S3 would not take (adapters/failure_sink.py); complete parts
  reassemble into the result and order lines, which `redrive-ledger` writes where they belong;
- `undelivered-event`: a plan EventBridge could not deliver (the rule's DLQ: the event as the
  body, the error in message attributes), or one the plan queue gave up on (SQS redrive);
- `failed-invocation`: Lambda's on-failure destination record (the invocation raised or timed
  out on every try): the request, the condition and the error.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plan_executor.adapters.failure_sink import (
    DEAD_LETTER_KIND,
    DeadLetteredLedger,
    DeadLetterFormatError,
    decode_dead_letter,
)
from plan_executor.domain.rejections import salvage_ids

EVENTBRIDGE_ERROR_ATTRIBUTES = ("ERROR_CODE", "ERROR_MESSAGE", "RULE_ARN", "TARGET_ARN")


class MessageKind(StrEnum):
    LEDGER = "ledger"
    UNDELIVERED_EVENT = "undelivered-event"
    FAILED_INVOCATION = "failed-invocation"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DlqMessage:
    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, str]
    """Message attributes (string values) and the system attributes SQS returned."""


@dataclass(frozen=True, slots=True)
class Described:
    kind: MessageKind
    fields: tuple[tuple[str, str], ...]


def from_sqs(message: Mapping[str, Any]) -> DlqMessage:
    """A received SQS message as a DlqMessage."""
    attributes = {
        name: str(value.get("StringValue", ""))
        for name, value in message.get("MessageAttributes", {}).items()
    }
    attributes.update(message.get("Attributes", {}))
    return DlqMessage(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message["Body"],
        attributes=attributes,
    )


def _json(body: str) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def kind_of(message: DlqMessage) -> MessageKind:
    body = _json(message.body)
    if body is None:
        return MessageKind.UNKNOWN
    if body.get("kind") == DEAD_LETTER_KIND:
        return MessageKind.LEDGER
    if isinstance(body.get("requestContext"), dict) and "requestPayload" in body:
        return MessageKind.FAILED_INVOCATION
    if "detail-type" in body and "detail" in body:
        return MessageKind.UNDELIVERED_EVENT
    return MessageKind.UNKNOWN


def describe(message: DlqMessage) -> Described:
    """The fields an operator needs to tell what happened to what."""
    kind = kind_of(message)
    body = _json(message.body) or {}
    fields: list[tuple[str, str]]
    if kind is MessageKind.LEDGER:
        fields = [
            ("plan_id", str(body.get("plan_id"))),
            ("attempt", str(body.get("attempt"))),
            ("part", f"{body.get('part')}/{body.get('parts')}"),
        ]
    elif kind is MessageKind.FAILED_INVOCATION:
        fields = _failed_invocation(body)
    elif kind is MessageKind.UNDELIVERED_EVENT:
        fields = _undelivered(body, message.attributes)
    else:
        fields = [("body", message.body[:200])]
    return Described(kind, (("message_id", message.message_id), *fields))


def _event_fields(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    ids = salvage_ids(event)
    return [
        ("event_id", str(event.get("id"))),
        ("source", str(event.get("source"))),
        ("detail_type", str(event.get("detail-type"))),
        ("time", str(event.get("time"))),
        ("plan_id", ids.plan_id),
    ]


def _undelivered(event: Mapping[str, Any], attributes: Mapping[str, str]) -> list[tuple[str, str]]:
    errors = [
        (name.lower(), attributes[name])
        for name in EVENTBRIDGE_ERROR_ATTRIBUTES
        if name in attributes
    ]
    if not errors:
        errors = [("from", "the plan queue (received too often without success)")]
    return [*_event_fields(event), *errors]


def _failed_invocation(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    context = body["requestContext"]
    response = body.get("responsePayload")
    response = response if isinstance(response, dict) else {}
    payload = body.get("requestPayload")
    event_fields = _event_fields(payload) if isinstance(payload, dict) else []
    return [
        ("condition", str(context.get("condition"))),
        ("request_id", str(context.get("requestId"))),
        ("invocations", str(context.get("approximateInvokeCount"))),
        ("error_type", str(response.get("errorType"))),
        ("error_message", str(response.get("errorMessage"))[:300]),
        *event_fields,
    ]


@dataclass(frozen=True, slots=True)
class LedgerGroup:
    """The parts of one dead-lettered ledger found in the queue."""

    messages: tuple[DlqMessage, ...]
    ledger: DeadLetteredLedger | None
    problem: str | None


def ledger_groups(messages: Iterable[DlqMessage]) -> list[LedgerGroup]:
    """Ledger parts grouped by document (checksum), each group decoded when complete and
    intact. A part received twice (SQS delivers at least once) decodes once, and both copies
    belong to the group."""
    by_document: dict[str, list[DlqMessage]] = defaultdict(list)
    for message in messages:
        if kind_of(message) is MessageKind.LEDGER:
            body = _json(message.body) or {}
            by_document[str(body.get("sha256"))].append(message)
    groups = []
    for parts in by_document.values():
        try:
            ledger = decode_dead_letter(message.body for message in parts)
        except DeadLetterFormatError as error:
            groups.append(LedgerGroup(tuple(parts), None, str(error)))
            continue
        groups.append(LedgerGroup(tuple(parts), ledger, None))
    return groups
