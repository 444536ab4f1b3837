"""Arming a fault-matrix cell: the sim's faults (run on its loop as the cell's phase starts)
and the moto server's (before the invocation), remembered so the cell can show they struck.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rel_aws_hangs import AwsHang
from rel_fault_cells import SUBMIT_ATTEMPTS, Cell, Commit, Kind, Setup
from rel_support import RelAws
from tests.integration.service.service_support import SimThread
from tests.support.aws_faults import (
    Fault,
    Where,
    json_api_error,
    put_events_entry_failure,
    s3_error,
)

from alpaca_sim.faults import HttpFault
from alpaca_sim.server import SimServer

LOOKUP_PATH = "/v2/orders:by_client_order_id"
REFUSE_STREAM_S = 0.3
ACK_DELAY_MS = 60.0
FILL_DELAY_MS = 20.0
_JSON_CODES = {429: "ThrottlingException", 500: "InternalFailure", 503: "ServiceUnavailable"}
_S3_CODES = {429: "SlowDown", 500: "InternalError", 503: "ServiceUnavailable"}
_GATEWAY_TIMEOUT = "GatewayTimeout"

SimStep = Callable[[SimServer], None]


@dataclass
class Armed:
    """What was armed, to show afterwards that the fault really happened."""

    sim_rules: list[HttpFault] = field(default_factory=list)
    aws_faults: list[Fault] = field(default_factory=list)
    aws_hangs: list[AwsHang] = field(default_factory=list)
    streams_dropped: int = 0
    log_mark: int | None = None
    """The sim's request log length when a venue-side fault was armed."""


def plan_broker_arming(cell: Cell, armed: Armed, actions: dict[str, list[SimStep]]) -> None:
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


def on_sim(sim: SimThread, steps: list[SimStep]) -> Callable[[], None]:
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


def arm_aws(aws: RelAws, cell: Cell, event: dict[str, Any], armed: Armed) -> None:
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
