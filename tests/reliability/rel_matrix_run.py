"""One fault-matrix cell, run: arm the fault (AWS before the invocation, the broker's when the
service logs that the cell's phase started), invoke the real handler, and when the invocation
raised, deliver the event again as Lambda's retry would. Then read what every side holds.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from rel_aws_hangs import AwsHang
from rel_fault_cells import SUBMIT_ATTEMPTS, Cell, Commit, Kind, Setup
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
from tests.support.aws_faults import (
    Fault,
    Where,
    json_api_error,
    put_events_entry_failure,
    s3_error,
)
from tests.support.aws_stack import AwsStack

from alpaca_sim.faults import HttpFault
from alpaca_sim.server import SimServer
from plan_executor.adapters.failure_sink import DeadLetteredLedger

STEP_WAIT_S = "0.01"
"""Each smart-order step rests this long: the walk stays real but short."""
SHORT_LOCK_S = 1.0
"""The deadline of a first invocation whose idempotency put is made to fail: its in-progress
lock (Powertools takes the Lambda's remaining time) expires this soon."""
LOCK_EXPIRY_SLACK_S = 0.05
"""Waited past the record's own expiry instant (its clock is milliseconds)."""
LOOKUP_PATH = "/v2/orders:by_client_order_id"
REFUSE_STREAM_S = 0.3
ACK_DELAY_MS = 60.0
FILL_DELAY_MS = 20.0
_JSON_CODES = {429: "ThrottlingException", 500: "InternalFailure", 503: "ServiceUnavailable"}
_S3_CODES = {429: "SlowDown", 500: "InternalError", 503: "ServiceUnavailable"}
_GATEWAY_TIMEOUT = "GatewayTimeout"
_request_ids = itertools.count(1)


@dataclass
class Armed:
    """What was armed, to show afterwards that the fault really happened."""

    sim_rules: list[HttpFault] = field(default_factory=list)
    aws_faults: list[Fault] = field(default_factory=list)
    aws_hangs: list[AwsHang] = field(default_factory=list)
    streams_dropped: int = 0
    log_mark: int | None = None
    """The sim's request log length when a venue-side fault was armed."""


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
    actions: dict[str, list[Callable[[SimServer], None]]] = {}
    if cell.side == "aws":
        _arm_aws(world.aws, cell, event, armed)
    else:
        _plan_broker_arming(cell, armed, actions)
    tap = PhaseTap({phase: _on_sim(world.sim, steps) for phase, steps in actions.items()})
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
    records = idempotency_records(stack)
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
        server.faults.delay_acks(0.0, 0.0)
        server.hub.allow_connections()

    world.sim.call(clear)


def _positions(sim: SimThread) -> dict[str, Decimal]:
    return {symbol: Decimal(qty) for symbol, qty in sim.positions().items()}


# --- arming ----------------------------------------------------------------------------------


def _plan_broker_arming(
    cell: Cell, armed: Armed, actions: dict[str, list[Callable[[SimServer], None]]]
) -> None:
    """Which sim-side steps run as which phase starts."""
    if cell.call == "stream":
        actions[cell.phase] = [lambda server: _arm_stream(server, cell, armed)]
        return
    call = cell.broker_call()
    if cell.phase in call.setup:
        at, setup = call.setup[cell.phase]
        actions.setdefault(at, []).append(lambda server: _lose_submit(server, setup, armed))
    arm = call.arming_phase(cell.phase)
    actions.setdefault(arm, []).append(lambda server: _arm_broker(server, cell, armed))


def _on_sim(sim: SimThread, steps: list[Callable[[SimServer], None]]) -> Callable[[], None]:
    def run_all(server: SimServer) -> None:
        for step in steps:
            step(server)

    return lambda: sim.call(run_all)


def _lose_submit(server: SimServer, setup: Setup, armed: Armed) -> None:
    """The next order is placed, but its answer is lost (the submit's outcome is unknown);
    for UNRESOLVED_SUBMIT the lookups fail until the adapter's attempts are used up."""
    faults = server.faults
    armed.sim_rules.append(faults.fail_next(504, method="POST", path="/v2/orders", phase="after"))
    if setup is Setup.UNRESOLVED_SUBMIT:
        lookups = SUBMIT_ATTEMPTS - 1
        armed.sim_rules.append(faults.fail_next(503, count=lookups, method="GET", path=LOOKUP_PATH))


def _arm_stream(server: SimServer, cell: Cell, armed: Armed) -> None:
    armed.log_mark = len(server.context.log)
    if cell.fault.kind is Kind.DROP_STREAM:
        armed.streams_dropped = server.faults.drop_streams(refuse_seconds=REFUSE_STREAM_S)
    else:
        server.faults.delay_acks(ACK_DELAY_MS, FILL_DELAY_MS)


def _arm_broker(server: SimServer, cell: Cell, armed: Armed) -> None:
    """Runs on the sim's loop, as the cell's arming phase starts."""
    faults, fault, call = server.faults, cell.fault, cell.broker_call()
    armed.log_mark = len(server.context.log)
    where = {"method": call.method, "path": call.path}
    phase = fault.commit.value
    if fault.kind is Kind.STATUS:
        assert fault.status is not None
        armed.sim_rules.append(
            faults.fail_next(fault.status, count=fault.count, phase=phase, **where)
        )
    elif fault.kind is Kind.HANG:
        armed.sim_rules.append(faults.hang(count=1, phase=phase, **where))
    elif fault.kind is Kind.REJECT:
        faults.reject_next_order(403, 40310000, "insufficient buying power")
    elif fault.kind is Kind.REJECT_ON_ACK:
        faults.reject_next_order(200, None, "rejected when acknowledged")
    elif fault.kind is Kind.CANCEL_RACE:
        faults.race_fill_on_next_cancel()
    else:
        raise AssertionError(f"no broker fault {fault.kind}")


def _arm_aws(aws: RelAws, cell: Cell, event: dict[str, Any], armed: Armed) -> None:
    call, fault = cell.aws_call(), cell.fault
    plan_path = f"plan_id={event['detail']['rebalance_plan']['plan_id']}"
    if call.needs_s3_down:
        armed.aws_faults.append(
            aws.faults.add(s3_error("ServiceUnavailable", 503, path_contains=plan_path, times=None))
        )
    where = Where(
        call.service, call.operation, call.method, plan_path if call.path_has_plan else ""
    )
    after = fault.commit is Commit.AFTER
    if fault.kind is Kind.HANG:
        armed.aws_hangs.append(aws.hangs.hang(where, after_commit=after, count=1))
    elif fault.kind is Kind.ENTRY_FAILURE:
        armed.aws_faults.append(aws.faults.add(put_events_entry_failure(times=fault.count)))
    elif fault.kind is Kind.STATUS:
        assert fault.status is not None
        armed.aws_faults.append(aws.faults.add(_aws_error(where, fault.status, fault.count, after)))
    else:
        raise AssertionError(f"no AWS fault {fault.kind}")


def _aws_error(where: Where, status: int, count: int | None, after: bool) -> Fault:
    if where.service == "s3":
        code = _S3_CODES.get(status, _GATEWAY_TIMEOUT)
        return s3_error(
            code, status, path_contains=where.path_contains, times=count, after_commit=after
        )
    assert where.operation is not None
    code = _JSON_CODES.get(status, _GATEWAY_TIMEOUT)
    return json_api_error(
        where.service, where.operation, code, status, times=count, after_commit=after
    )
