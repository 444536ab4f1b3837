"""After the execution: write the ledger, then publish the one `ExecutionResult` event.

The ledger comes first so the published result can point at it. A ledger that could not be
written to S3 but reached the failure destination is reported in the result (`ledger` None and
the reason); one that reached neither, or a result that could not be published, raises, so the
invocation fails and is retried (reconciliation makes the retry safe).
"""

import logging
from dataclasses import dataclass

from plan_executor.domain.results import MAX_REASON_CHARS, ExecutionResult
from plan_executor.engine.models import ExecutionOutcome
from plan_executor.ports import LedgerStore, LedgerWriteOutcome, PublishReceipt, ResultPublisher

logger = logging.getLogger(__name__)


class LedgerLostError(Exception):
    """The ledger reached neither S3 nor the failure destination."""


@dataclass(frozen=True, slots=True)
class Delivery:
    result: ExecutionResult
    """The result as published: `ledger` set, or None with the reason."""
    ledger_written: bool
    receipt: PublishReceipt


async def deliver(
    outcome: ExecutionOutcome, ledger: LedgerStore, publisher: ResultPublisher
) -> Delivery:
    written = await ledger.write(outcome.result, outcome.ledger_lines)
    if written.lost:
        raise LedgerLostError(f"ledger of attempt {outcome.result.attempt} lost: {written.error}")
    result = _with_ledger(outcome.result, written)
    receipt = await publisher.publish(result)
    return Delivery(result=result, ledger_written=written.ref is not None, receipt=receipt)


def _with_ledger(result: ExecutionResult, written: LedgerWriteOutcome) -> ExecutionResult:
    if written.ref is not None:
        return result.model_copy(update={"ledger": written.ref})
    logger.error("ledger not written to S3, sent to the failure destination: %s", written.error)
    note = "ledger not written to S3; the full ledger went to the failure destination"
    reason = f"{result.reason}; {note}" if result.reason else note
    return result.model_copy(update={"ledger": None, "reason": reason[:MAX_REASON_CHARS]})
