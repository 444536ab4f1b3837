"""The fault matrix over the whole service: the real handler against moto (server mode, with a
fault and a hang layer) and alpaca_sim, cells of outside call x fault x phase generated from
the tables in rel_fault_cells. Every cell shows its fault struck, keeps the shared invariants
(rel_invariants), and ends as its table says the service must end it. The fast part runs here;
the rest of the product is marked `soak` (pytest -m soak).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from rel_fault_cells import Cell, Expect, Kind, all_cells, matrix_cells, soak_cells
from rel_invariants import PlanAccount, assert_every_invariant
from rel_matrix_run import CellRun, Invocation, MatrixWorld, run_cell
from rel_support import RelAws, aws_process_env, plan_items, running_aws
from tests.integration.service.service_support import (
    EMPTY_METRICS_WARNING,
    SimThread,
    service_scenario,
)

RECORD_CLOCK_SLACK_MS = 50
"""Powertools stamps the in-progress expiry from its own reading of the clock."""
_SUCCESS = "SUCCESS"


@pytest.fixture(scope="module")
def rel_aws() -> Iterator[RelAws]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws_process_env().items():
            patch.setenv(name, value)
        with running_aws() as aws:
            yield aws


@pytest.fixture(scope="module")
def rel_sim() -> Iterator[SimThread]:
    with SimThread(service_scenario(datetime.now(UTC))) as sim:
        yield sim


@pytest.fixture
def world(rel_aws: RelAws, rel_sim: SimThread, monkeypatch: pytest.MonkeyPatch) -> MatrixWorld:
    def set_env(env: dict[str, str]) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return MatrixWorld(rel_aws, rel_sim, set_env)


@pytest.mark.filterwarnings(EMPTY_METRICS_WARNING)
@pytest.mark.parametrize("cell", matrix_cells(), ids=lambda cell: cell.id)
def test_a_fault_keeps_every_invariant(world: MatrixWorld, cell: Cell) -> None:
    check_cell(run_cell(world, cell))


@pytest.mark.soak
@pytest.mark.filterwarnings(EMPTY_METRICS_WARNING)
@pytest.mark.parametrize("cell", soak_cells(), ids=lambda cell: cell.id)
def test_a_slow_or_lasting_fault_keeps_every_invariant(world: MatrixWorld, cell: Cell) -> None:
    check_cell(run_cell(world, cell))


def test_the_fast_matrix_covers_every_call_fault_and_phase_of_the_tables() -> None:
    everything, fast, soak = all_cells(), matrix_cells(), soak_cells()
    ids = [cell.id for cell in everything]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(cell.id for cell in (*fast, *soak)), "fast + soak = product"
    assert {(c.call, c.phase) for c in fast} == {(c.call, c.phase) for c in everything}
    counted = [c for c in everything if c.side == "broker" and not c.fault.persistent]
    assert {(c.call, c.fault.label) for c in fast} >= {(c.call, c.fault.label) for c in counted}
    writes = [c for c in counted if c.call in ("submit", "cancel")]
    assert {c.id for c in writes} <= {c.id for c in fast}, "writes: every fault in every phase"
    assert not [c for c in everything if c.fault.commit == "after" and c.call in _READS]
    assert not [c for c in everything if c.fault.status == 429 and c.fault.commit == "after"]
    assert all(c.fault.count in (1, 2, 3, None) for c in everything)
    assert {c.fault.kind for c in fast} == set(Kind)


_READS = frozenset(
    {
        "order-by-client-id",
        "list-orders",
        "quotes",
        "account",
        "positions",
        "clock",
        "assets",
        "alpaca-secret",
    }
)


def check_cell(run: CellRun) -> None:
    assert_the_fault_happened(run)
    assert_the_expected_ending(run)
    assert_raised_invocations_released_their_record(run)
    assert_every_invariant(account_of(run))


def account_of(run: CellRun) -> PlanAccount:
    return PlanAccount(
        items=plan_items(run.event),
        initial=run.initial,
        truth=run.truth,
        ledgers=run.ledgers,
        letters=run.letters,
        events=run.events,
        results=[inv.result for inv in run.invocations if inv.result is not None],
        duplicate_events_possible=run.cell.duplicate_events_possible,
    )


def assert_the_fault_happened(run: CellRun) -> None:
    """A cell whose fault never struck would prove nothing."""
    armed, truth, kind = run.armed, run.truth, run.cell.fault.kind
    for rule in armed.sim_rules:
        if rule.remaining is None:
            label = f"status {rule.status}/{rule.phase}"
            assert any(entry.get("fault") == label for entry in truth.requests), label
        else:
            assert rule.remaining <= 0, f"not every use was taken: {rule.describe()}"
    for fault in armed.aws_faults:
        assert fault.hits >= (fault.times or 1), fault
    for hang in armed.aws_hangs:
        assert hang.hits >= 1, hang
        assert not hang.outlived, f"a client waited on a hung AWS call past its timeout: {hang}"
    after_mark = truth.requests[armed.log_mark or 0 :]
    posts_after = [e for e in after_mark if e["method"] == "POST" and e["path"] == "/v2/orders"]
    if kind is Kind.DROP_STREAM:
        assert armed.streams_dropped >= 1
    if kind is Kind.DELAY_ACK:
        assert posts_after, "no order was sent while acks were delayed"
    if kind is Kind.REJECT:
        assert any(entry["status"] == 403 for entry in posts_after)
    if kind is Kind.REJECT_ON_ACK:
        assert any(order["status"] == "rejected" for order in truth.orders)
    if kind is Kind.CANCEL_RACE:
        assert any(update["event"] == "order_cancel_rejected" for update in truth.updates)


def assert_the_expected_ending(run: CellRun) -> None:
    expect, invocations = run.cell.expect, run.invocations
    first, last = invocations[0], invocations[-1]
    if expect in (Expect.ABSORBED, Expect.DEGRADED, Expect.REJECTED, Expect.DEAD_LETTERED):
        assert first.error is None, f"raised {first.error!r}"
        assert len(invocations) == 1
        assert first.result is not None
        status = first.result["status"]
        if expect is Expect.ABSORBED:
            assert status == _SUCCESS, first.result["reason"]
        if expect is Expect.DEGRADED:
            assert status in ("PARTIAL_SUCCESS", "FAILURE"), (status, first.result["reason"])
        if expect is Expect.REJECTED:
            assert status == "REJECTED"
            assert "could not be checked" in first.result["reason"]
        if expect is Expect.DEAD_LETTERED:
            assert status == _SUCCESS
            assert first.result["ledger"] is None
            assert first.result["attempt"] in run.letters
        return
    assert first.error is not None, "the first invocation was expected to raise"
    assert len(invocations) == 2
    if expect is Expect.RAISES:
        assert last.result is not None, f"the redelivery raised {last.error!r}"
        assert last.result["status"] == _SUCCESS, last.result["reason"]
    elif expect is Expect.SERVED:
        assert first.record_after is not None
        assert first.record_after["status"] == "COMPLETED"
        assert last.result is not None
        assert _requests_during(run, last) == [], "a stored result was served by trading"
        assert [e["detail"] for e in run.events] == [last.result]
    elif expect is Expect.LOCKED:
        assert first.record_after is not None
        assert first.record_after["status"] == "INPROGRESS"
        assert isinstance(last.error, IdempotencyAlreadyInProgressError), repr(last.error)
        assert _requests_during(run, last) == [], "a refused redelivery reached the broker"
        assert len(run.events) == 1, "the plan was reported once, by the invocation that raised"
        assert run.events[0]["detail"]["status"] == _SUCCESS


def assert_raised_invocations_released_their_record(run: CellRun) -> None:
    """Raised: the record is gone, or it is an in-progress lock that ends by the invocation's
    own deadline, or (its update's answer lost) it is complete."""
    for invocation in run.invocations[:-1]:
        if invocation.error is None:
            continue
        record = invocation.record_after
        if record is None or record["status"] == "COMPLETED":
            continue
        assert record["status"] == "INPROGRESS", record
        expiry = record["in_progress_expiration"]
        assert expiry is not None
        assert expiry <= invocation.deadline_ms + RECORD_CLOCK_SLACK_MS, (record, invocation)


def _requests_during(run: CellRun, invocation: Invocation) -> list[dict[str, object]]:
    index = run.invocations.index(invocation)
    end = (
        run.invocations[index + 1].log_mark
        if index + 1 < len(run.invocations)
        else len(run.truth.requests)
    )
    return run.truth.requests[invocation.log_mark : end]
