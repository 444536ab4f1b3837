"""Hostile events through the real handler on moto + alpaca_sim: every one comes back REJECTED
naming a field, none raises, the broker sees no order, the ledger keeps its layout, and no log
line starts with text that followed a line break in the input.

Each event is the saved mixed plan under a new plan id, made an hour ago (stale), with one
hostile change. A change that leaves the event valid still meets the stale-plan rail, so the
parsed-plan path (idempotency record, broker session, ledger under the plan id) is exercised
too; a change that breaks the event is refused before any of that.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hostile_support import (
    INJECTED,
    PLAN,
    Mutation,
    ServiceRig,
    apply,
    base_event,
    collected_logs,
    injected_lines,
    mutations,
    nested_list,
    outside_ledger_layout,
    service_rig,
)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from tests.support.aws_stack import LocalMotoServer

from plan_executor.domain.results import ExecutionResult
from plan_executor.domain.validation import PlanValidationError
from plan_executor.invocation import parse_event

STALE = timedelta(hours=1)
STALE_FIELD = "detail.rebalance_plan.timestamp"
_plan_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def rig(moto_server: LocalMotoServer) -> Iterator[ServiceRig]:
    with service_rig(moto_server, "hostile") as running:
        yield running


def stale_base() -> dict[str, Any]:
    return base_event(f"hostile-{next(_plan_numbers)}", datetime.now(UTC), age=STALE)


def field_it_must_name(raw: object) -> str | None:
    """The field the rejection must name (the oracle is the pure parser); None when the event
    is valid and says there is nothing to trade (that succeeds with zero orders, by design)."""
    try:
        parsed = parse_event(raw)  # type: ignore[arg-type]  # hostile on purpose
    except PlanValidationError as error:
        return error.violations[0].field
    return STALE_FIELD if parsed.detail.trades_required else None


def invoke_and_check(
    rig: ServiceRig,
    raw: object,
    capsys: pytest.CaptureFixture[str],
    *,
    label: str,
    log_level: int = logging.INFO,
) -> dict[str, Any]:
    field = field_it_must_name(raw)
    assert field is not None, label

    with collected_logs(log_level) as logs:
        result = rig.invoke(raw)

    printed = capsys.readouterr()
    assert result["status"] == "REJECTED", label
    assert f"{field}: " in result["reason"], (label, result["reason"])
    ExecutionResult.model_validate(result)
    assert injected_lines("\n".join((printed.out, printed.err, logs.take()))) == [], label
    new_keys = rig.new_ledger_keys()
    assert new_keys, f"{label}: a rejection is written to the ledger too"
    assert outside_ledger_layout(new_keys) == [], label
    assert rig.sim.order_posts() == [], label
    return result


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_a_hostile_event_is_rejected_naming_a_field_and_places_no_order(
    rig: ServiceRig, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    base = stale_base()
    mutation: Mutation = data.draw(mutations(base), label="mutation")
    raw = apply(base, mutation)
    assume(field_it_must_name(raw) is not None)
    event(mutation.kind)

    invoke_and_check(rig, raw, capsys, label=mutation.describe())


NASTIEST: dict[str, tuple[tuple[str | int, ...], object]] = {
    "plan-id-traversal": ((*PLAN, "plan_id"), "executions/../x"),
    "plan-id-encoded-dots": ((*PLAN, "plan_id"), "%2e%2e"),
    "plan-id-nul": ((*PLAN, "plan_id"), "plan\x00id"),
    "plan-id-newline": ((*PLAN, "plan_id"), f"p\n{INJECTED}"),
    "plan-id-long": ((*PLAN, "plan_id"), "p" * 100_000),
    "symbol-long-s": ((*PLAN, "items", 0, "symbol"), "\u017fpy"),
    "symbol-newline": ((*PLAN, "items", 0, "symbol"), f"AAPL\r\n{INJECTED}"),
    "correlation-newline": ((*PLAN, "correlation_id"), f"c\u2028{INJECTED}"),
    "metadata-newline": ((*PLAN, "metadata"), {"note": f"x\n{INJECTED}"}),
    "metadata-surrogate": ((*PLAN, "metadata"), {"note": "\ud800"}),
    "amount-huge-int": ((*PLAN, "items", 0, "trade_amount"), -(10**5000)),
    "amount-nan": ((*PLAN, "items", 0, "trade_amount"), float("nan")),
    "amount-negative-zero": ((*PLAN, "items", 0, "trade_amount"), -0.0),
    "priority-bool": ((*PLAN, "items", 0, "priority"), True),
    "detail-type-newline": (("detail-type",), f"RebalancePlanned\n{INJECTED}"),
    "source-surrogate": (("source",), "a\udfffb"),
    "unknown-key-newline": (("detail", f"k\n{INJECTED}"), 1),
}


@pytest.mark.parametrize("case", list(NASTIEST.values()), ids=list(NASTIEST))
def test_the_nastiest_values_are_rejected_where_they_are(
    rig: ServiceRig, capsys: pytest.CaptureFixture[str], case: tuple[Any, object]
) -> None:
    path, value = case
    base = stale_base()

    raw = apply(base, Mutation("replace", path, value))

    result = invoke_and_check(rig, raw, capsys, label=str(path), log_level=logging.DEBUG)

    plan_id = base["detail"]["rebalance_plan"]["plan_id"]
    assert result["plan_id"] == ("unknown" if path[-1] == "plan_id" else plan_id)


ENVELOPES = {
    "none": None,
    "string": "RebalancePlanned",
    "number": 12,
    "list": [1, 2],
    "pairs": [["version", "0"], ["detail", {}]],
    "empty-object": {},
    "deep": nested_list(100_000),
}


@pytest.mark.parametrize("envelope", list(ENVELOPES.values()), ids=list(ENVELOPES))
def test_an_envelope_of_the_wrong_type_is_rejected_not_raised(
    rig: ServiceRig, capsys: pytest.CaptureFixture[str], envelope: object
) -> None:
    result = invoke_and_check(rig, envelope, capsys, label=type(envelope).__name__)

    assert result["plan_id"] == "unknown"
