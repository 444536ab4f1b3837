"""One replay run judged from what the stack shows afterwards: a first execution must leave one
result event in the queue and its ledger objects in the bucket; a duplicate must leave nothing
new anywhere (no order at the broker, no event, no ledger object) and return the stored result.
"""

from dataclasses import dataclass, field
from typing import Final

from pydantic import ValidationError

from plan_executor.cli_format import INDENT
from plan_executor.domain.enums import ExecutionStatus
from plan_executor.domain.results import ExecutionResult
from plan_executor.local.lambda_runner import Invocation
from plan_executor.local.local_stack import LocalStack
from plan_executor.local.readback import (
    dead_letters,
    ledger_object_count,
    ledger_objects,
    take_result_events,
)
from plan_executor.local.replay_format import (
    ledger_lines,
    metrics_line,
    order_table,
    outcome_lines,
    result_event_lines,
    totals_lines,
)

RESULT_EVENT_WAIT_S: Final = 5.0
RAW_TAIL_LINES: Final = 15


@dataclass(frozen=True, slots=True)
class StackCounts:
    orders: int | None
    """POST /v2/orders the sim answered so far; None with Alpaca (not observable)."""
    ledger_objects: int

    @classmethod
    def read(cls, stack: LocalStack) -> "StackCounts":
        orders = None if stack.sim is None else stack.sim.order_submissions()
        return cls(orders, ledger_object_count(stack.aws))


@dataclass(slots=True)
class RunReport:
    number: int
    result: ExecutionResult | None = None
    duplicate: bool = False
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    verdict: str = ""

    @property
    def status(self) -> ExecutionStatus | None:
        return None if self.result is None else self.result.status


def check_run(
    number: int,
    invocation: Invocation,
    stack: LocalStack,
    *,
    before: StackCounts,
    first: RunReport | None,
    event_parses: bool,
) -> RunReport:
    """`event_parses`: a plan that parses is stored by the idempotency layer, whatever its
    outcome, so every run after a completed first one must be a duplicate."""
    report = RunReport(number)
    report.result = _result(invocation, report)
    if report.result is None:
        report.verdict = f"run {number} FAILED"
        return report
    report.duplicate = sum(invocation.metrics.get("DuplicatesServed", ())) > 0
    report.lines += outcome_lines(report.result, duplicate=report.duplicate)
    if report.duplicate:
        _check_duplicate(report, report.result, stack, before, first)
    else:
        _check_execution(report, report.result, stack, before)
        if first is not None and first.result is not None:
            report.lines.append(_not_a_duplicate(report, event_parses=event_parses))
    report.lines.append(metrics_line(invocation.metrics))
    return report


def _result(invocation: Invocation, report: RunReport) -> ExecutionResult | None:
    if invocation.error is not None or invocation.response is None:
        error = invocation.error or "no response"
        report.problems.append(f"run {report.number}: {error}")
        report.lines += [f"{INDENT}FAILED: {error}", f"{INDENT}last lines of its output:"]
        tail = invocation.raw_lines[-RAW_TAIL_LINES:]
        report.lines += [f"{INDENT}{INDENT}{line[:160]}" for line in tail]
        return None
    try:
        return ExecutionResult.model_validate(invocation.response)
    except ValidationError as error:
        report.problems.append(f"run {report.number}: the response is not an ExecutionResult")
        report.lines.append(f"{INDENT}FAILED: not an ExecutionResult: {error}")
        return None


def _check_execution(
    report: RunReport,
    result: ExecutionResult,
    stack: LocalStack,
    before: StackCounts,
) -> None:
    number, aws = report.number, stack.aws
    placed = sum(len(order.child_orders) for order in result.orders)
    if result.orders:
        report.lines += ["", *order_table(result.orders), "", *totals_lines(result.summary)]
    report.lines.append(f"{INDENT}orders sent: {placed}{_sim_orders(stack, before)}")
    events = take_result_events(aws, at_least=1, timeout_s=RESULT_EVENT_WAIT_S)
    report.lines += ["", f"result event (read back from the results queue, {len(events)} new):"]
    report.lines += result_event_lines(events[0]) if events else [f"{INDENT}(none)"]
    if len(events) != 1 or events[0].get("detail", {}).get("event_id") != result.event_id:
        report.problems.append(f"run {number}: expected its one result event, found {len(events)}")
    report.lines += ["", "ledger:", *_ledger(report, result, stack)]
    report.verdict = f"run {number} {result.status.value} with {placed} orders"


def _ledger(report: RunReport, result: ExecutionResult, stack: LocalStack) -> list[str]:
    if result.ledger is None:
        queued = dead_letters(stack.aws)
        report.problems.append(f"run {report.number}: no ledger ({queued} messages in the DLQ)")
        return [f"{INDENT}not written: {queued} messages in the DLQ"]
    objects = ledger_objects(stack.aws, result.ledger.bucket, result.ledger.keys)
    missing = [item.key for item in objects if item.size is None]
    if missing:
        report.problems.append(f"run {report.number}: ledger objects missing: {missing}")
    return ledger_lines(result.ledger.bucket, objects)


def _check_duplicate(
    report: RunReport,
    result: ExecutionResult,
    stack: LocalStack,
    before: StackCounts,
    first: RunReport | None,
) -> None:
    number, aws = report.number, stack.aws
    after = StackCounts.read(stack)
    events = take_result_events(aws, at_least=0, timeout_s=0)
    new_objects = after.ledger_objects - before.ledger_objects
    new_orders = None if after.orders is None else after.orders - (before.orders or 0)
    report.lines += [
        f"{INDENT}DUPLICATE: served from the idempotency table {aws.idempotency_table}",
        f"{INDENT}  the stored result (result event id {result.event_id})",
        f"{INDENT}  new orders at the broker: {_new_orders_text(new_orders, after)}",
        f"{INDENT}  new result events in the queue: {len(events)}",
        f"{INDENT}  new ledger objects: {new_objects}",
    ]
    if new_orders:
        report.problems.append(f"run {number}: a duplicate sent {new_orders} orders")
    if events or new_objects:
        report.problems.append(f"run {number}: a duplicate published or wrote again")
    stored = None if first is None or first.result is None else first.result.event_id
    if stored is not None and stored != result.event_id:
        report.problems.append(f"run {number}: served a different result than run 1")
    report.verdict = f"run {number} served from the idempotency table, no new orders"


def _not_a_duplicate(report: RunReport, *, event_parses: bool) -> str:
    if not event_parses:
        return (
            f"{INDENT}not a duplicate: an event that fails validation leaves nothing in the"
            " idempotency table; it is refused again, and nothing reaches the broker"
        )
    report.problems.append(f"run {report.number} executed the plan again instead of serving run 1")
    return f"{INDENT}EXECUTED AGAIN: the idempotency table did not serve the stored result"


def _sim_orders(stack: LocalStack, before: StackCounts) -> str:
    if stack.sim is None or before.orders is None:
        return ""
    after = stack.sim.order_submissions()
    return f" (the sim answered {after - before.orders} POST /v2/orders)"


def _new_orders_text(new_orders: int | None, after: StackCounts) -> str:
    if new_orders is None:
        return "not observable at Alpaca"
    return f"{new_orders} (POST /v2/orders at the sim: {after.orders} in all)"
