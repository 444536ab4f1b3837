"""One fault-matrix cell, run: arm the fault (AWS before the invocation, the broker's when the
service logs that the cell's phase started), invoke the real handler, and when the invocation
raised, deliver the event again as Lambda's retry would. Then read what every side holds.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from rel_fault_arming import Armed, SimStep, arm_aws, on_sim, plan_broker_arming
from rel_fault_cells import Cell
from rel_support import (
    LedgerObjects,
    PhaseTap,
    RelAws,
    SimTruth,
    dead_letters,
    function_env,
    idempotency_records,
    reset_sim,
    result_events,
    small_plan_event,
    tapping_phases,
)
from tests.integration.service.service_support import (
    LambdaContextStub,
    SimThread,
    fresh_handler,
    invoke,
)
from tests.support.aws_stack import AwsStack

from alpaca_sim.server import SimServer
from plan_executor.adapters.failure_sink import DeadLetteredLedger
from plan_executor.invocation import IDEMPOTENCY_KEY_PREFIX

STEP_WAIT_S = "0.01"
"""Each smart-order step rests this long: the walk stays real but short."""
SHORT_LOCK_S = 1.0
"""The deadline of a first invocation whose idempotency put is made to fail: its in-progress
lock (Powertools takes the Lambda's remaining time) expires this soon."""
LOCK_EXPIRY_SLACK_S = 0.05
"""Waited past the record's own expiry instant (its clock is milliseconds)."""
_request_ids = itertools.count(1)


@dataclass
class Invocation:
    context: LambdaContextStub
    started_ms: int
    log_mark: int
    """The sim's request log length when the invocation started (its requests follow)."""
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    record_after: dict[str, Any] | None = None
    """The plan's idempotency record right after an invocation that raised."""

    @property
    def deadline_ms(self) -> int:
        return self.started_ms + int(self.context.remaining_s * 1000)


@dataclass
class CellRun:
    cell: Cell
    event: dict[str, Any]
    initial: dict[str, Decimal]
    invocations: list[Invocation]
    armed: Armed
    truth: SimTruth
    ledgers: LedgerObjects
    letters: dict[str, DeadLetteredLedger]
    events: list[dict[str, Any]]


@dataclass
class MatrixWorld:
    aws: RelAws
    sim: SimThread
    set_env: Callable[[dict[str, str]], None]


def run_cell(world: MatrixWorld, cell: Cell) -> CellRun:
    stack = world.aws.new_stack(cell.slug[:20])
    reset_sim(world.sim)
    world.set_env(function_env(stack, world.sim, STEP_WAIT_SECONDS=STEP_WAIT_S))
    handler = fresh_handler()
    event = small_plan_event(f"rel-{cell.slug}-{next(_request_ids)}", datetime.now(UTC))
    initial = _positions(world.sim)
    armed = Armed()
    actions: dict[str, list[SimStep]] = {}
    if cell.side == "aws":
        arm_aws(world.aws, cell, event, armed)
    else:
        plan_broker_arming(cell, armed, actions)
    tap = PhaseTap({phase: on_sim(world.sim, steps) for phase, steps in actions.items()})
    with tapping_phases(tap):
        first = _invoke(handler, event, world.sim, _first_context(cell))
    assert tap.pending == [], f"phases {tap.pending} never started"
    invocations = [first, *_redeliveries(world, stack, handler, event, first, cell)]
    return CellRun(
        cell=cell,
        event=event,
        initial=initial,
        invocations=invocations,
        armed=armed,
        truth=SimTruth.read(world.sim),
        ledgers=LedgerObjects.read(stack),
        letters=dead_letters(stack),
        events=result_events(stack),
    )


# --- invoking --------------------------------------------------------------------------------


def _first_context(cell: Cell) -> LambdaContextStub:
    if cell.short_lock:
        return _context(remaining_s=SHORT_LOCK_S)
    return _context()


def _context(**overrides: Any) -> LambdaContextStub:
    return LambdaContextStub(
        aws_request_id=f"00000000-0000-4000-8000-{next(_request_ids):012d}", **overrides
    )


def _invoke(
    handler: ModuleType, event: dict[str, Any], sim: SimThread, context: LambdaContextStub
) -> Invocation:
    mark = sim.call(lambda server: len(server.context.log))
    invocation = Invocation(context, int(time.time() * 1000), mark)
    try:
        invocation.result = invoke(handler, event, context)
    except Exception as error:  # as Lambda sees a failed invocation
        invocation.error = error
    return invocation


def _redeliveries(
    world: MatrixWorld,
    stack: AwsStack,
    handler: ModuleType,
    event: dict[str, Any],
    first: Invocation,
    cell: Cell,
) -> list[Invocation]:
    """Lambda delivers a failed event again, once the trouble has passed: at once when the
    record was released, after its expiry when it is a short in-progress lock; a long lock
    turns the redelivery away (shown by one prompt attempt)."""
    if first.error is None:
        return []
    first.record_after = _plan_record(stack)
    _clear_faults(world)
    record = first.record_after
    if record is not None and record["status"] == "INPROGRESS" and cell.short_lock:
        _wait_for_expiry(record)
    return [_invoke(handler, event, world.sim, _context())]


def _plan_record(stack: AwsStack) -> dict[str, Any] | None:
    """The plan's idempotency record (the table also holds its in-flight marker)."""
    records = [
        item
        for item in idempotency_records(stack)
        if item["id"]["S"].startswith(IDEMPOTENCY_KEY_PREFIX)
    ]
    assert len(records) <= 1, records
    if not records:
        return None
    item = records[0]
    return {
        "status": item["status"]["S"],
        "expiration": int(item["expiration"]["N"]),
        "in_progress_expiration": (
            int(item["in_progress_expiration"]["N"]) if "in_progress_expiration" in item else None
        ),
    }


def _wait_for_expiry(record: dict[str, Any]) -> None:
    """Until the record's own in-progress expiry has passed (epoch milliseconds)."""
    expiry_ms = record["in_progress_expiration"]
    assert expiry_ms is not None, record
    left_s = expiry_ms / 1000 - time.time()
    if left_s > 0:
        time.sleep(left_s + LOCK_EXPIRY_SLACK_S)


def _clear_faults(world: MatrixWorld) -> None:
    world.aws.clear()

    def clear(server: SimServer) -> None:
        server.faults.clear()
        server.faults.restore_latency()
        server.hub.allow_connections()

    world.sim.call(clear)


def _positions(sim: SimThread) -> dict[str, Decimal]:
    return {symbol: Decimal(qty) for symbol, qty in sim.positions().items()}
