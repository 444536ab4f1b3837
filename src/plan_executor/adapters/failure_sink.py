"""The failure destination for ledgers S3 would not take: the DLQ (SQS).

A ledger can exceed SQS's 256 KiB message limit, so the document (intended bucket and keys, the
reason, the result and `orders.jsonl`) is gzip-compressed, base64-encoded, and the text split
into numbered parts of at most `part_chars` characters, one message each. Every part carries the
attempt token and a SHA-256 of the document, so `decode_dead_letter` can reassemble and verify
it (standard queues do not keep order). Message attributes `kind`, `plan_id` and `attempt` let an
operator tell these apart from Lambda's own failure records in the same queue.
"""

import base64
import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import aioboto3

from plan_executor.adapters.aws_config import AwsConfig
from plan_executor.adapters.aws_retry import Retrier
from plan_executor.domain.ledger import orders_jsonl, parse_ledger_line
from plan_executor.domain.results import ExecutionResult
from plan_executor.ports import FailureSinkError, LedgerEntry, UnwrittenLedger

DEAD_LETTER_KIND: Final = "plan-executor.ledger"
DEAD_LETTER_VERSION: Final = 1
ENCODING: Final = "gzip+base64"
DEFAULT_PART_CHARS: Final = 192 * 1024
"""Leaves room under 256 KiB for the envelope and attributes."""


@dataclass(frozen=True, slots=True)
class SqsFailureSinkConfig:
    queue_url: str
    part_chars: int = DEFAULT_PART_CHARS

    def __post_init__(self) -> None:
        if not self.queue_url:
            raise ValueError("queue_url must not be empty")
        if not 1 <= self.part_chars <= DEFAULT_PART_CHARS:
            raise ValueError(f"part_chars must be within 1..{DEFAULT_PART_CHARS}")


@dataclass(frozen=True, slots=True)
class DeadLetteredLedger:
    """A ledger read back from the DLQ: everything needed to write it to S3 later."""

    result: ExecutionResult
    lines: tuple[LedgerEntry, ...]
    bucket: str
    keys: dict[str, str] | None
    reason: str


class DeadLetterFormatError(ValueError):
    """The messages do not form one complete, intact dead-lettered ledger."""


def _document(ledger: UnwrittenLedger) -> bytes:
    keys = (
        None
        if ledger.keys is None
        else {"result": ledger.keys.result, "orders": ledger.keys.orders}
    )
    document = {
        "bucket": ledger.bucket,
        "keys": keys,
        "reason": ledger.reason,
        "result": ledger.result.model_dump(mode="json"),
        "orders_jsonl": orders_jsonl(ledger.lines),
    }
    return json.dumps(document, separators=(",", ":")).encode()


def encode_dead_letter(ledger: UnwrittenLedger, part_chars: int = DEFAULT_PART_CHARS) -> list[str]:
    """The message bodies that carry `ledger`, in part order."""
    document = _document(ledger)
    text = base64.b64encode(gzip.compress(document, mtime=0)).decode("ascii")
    chunks = [text[i : i + part_chars] for i in range(0, len(text), part_chars)]
    header = {
        "kind": DEAD_LETTER_KIND,
        "version": DEAD_LETTER_VERSION,
        "plan_id": ledger.result.plan_id,
        "attempt": ledger.result.attempt,
        "encoding": ENCODING,
        "sha256": hashlib.sha256(document).hexdigest(),
        "parts": len(chunks),
    }
    return [
        json.dumps({**header, "part": number, "data": chunk}, separators=(",", ":"))
        for number, chunk in enumerate(chunks, start=1)
    ]


def decode_dead_letter(bodies: Iterable[str]) -> DeadLetteredLedger:
    """Reassemble the parts of one dead-lettered ledger (any order) and verify it."""
    try:
        return _decode(bodies)
    except DeadLetterFormatError:
        raise
    except (KeyError, TypeError, ValueError, OSError, EOFError, zlib.error) as exc:
        raise DeadLetterFormatError(f"malformed: {type(exc).__name__}: {exc}") from exc


def _decode(bodies: Iterable[str]) -> DeadLetteredLedger:
    parts: dict[int, dict[str, Any]] = {}
    for body in bodies:
        envelope = json.loads(body)
        if envelope.get("kind") != DEAD_LETTER_KIND or envelope.get("encoding") != ENCODING:
            raise DeadLetterFormatError("not a dead-lettered ledger message")
        parts[envelope["part"]] = envelope
    first = parts.get(1)
    if first is None or sorted(parts) != list(range(1, first["parts"] + 1)):
        raise DeadLetterFormatError(f"incomplete: have parts {sorted(parts)}")
    if any(p["sha256"] != first["sha256"] for p in parts.values()):
        raise DeadLetterFormatError("parts of different ledgers")
    data = "".join(parts[n]["data"] for n in sorted(parts))
    document = gzip.decompress(base64.b64decode(data, validate=True))
    if hashlib.sha256(document).hexdigest() != first["sha256"]:
        raise DeadLetterFormatError("checksum mismatch")
    fields = json.loads(document)
    return DeadLetteredLedger(
        result=ExecutionResult.model_validate(fields["result"]),
        lines=tuple(parse_ledger_line(line) for line in fields["orders_jsonl"].splitlines()),
        bucket=fields["bucket"],
        keys=fields["keys"],
        reason=fields["reason"],
    )


class SqsFailureSink:
    """`FailureSink` over SQS (aioboto3, one client per call, closed on every path)."""

    def __init__(
        self,
        config: SqsFailureSinkConfig,
        aws: AwsConfig,
        *,
        retrier: Retrier,
        session: aioboto3.Session | None = None,
    ) -> None:
        self._config = config
        self._aws = aws
        self._retrier = retrier
        self._session = session or aioboto3.Session()

    async def send_ledger(self, ledger: UnwrittenLedger) -> None:
        bodies = encode_dead_letter(ledger, self._config.part_chars)
        attributes = {
            "kind": {"DataType": "String", "StringValue": DEAD_LETTER_KIND},
            "plan_id": {"DataType": "String", "StringValue": ledger.result.plan_id},
            "attempt": {"DataType": "String", "StringValue": ledger.result.attempt},
        }
        try:
            async with self._session.client("sqs", **self._aws.client_kwargs()) as sqs:
                for number, body in enumerate(bodies, start=1):
                    send = partial(
                        sqs.send_message,
                        QueueUrl=self._config.queue_url,
                        MessageBody=body,
                        MessageAttributes=attributes,
                    )
                    await self._retrier.run(send, what=f"dead-letter part {number}/{len(bodies)}")
        except Exception as exc:
            raise FailureSinkError(f"could not dead-letter the ledger: {exc}") from exc
