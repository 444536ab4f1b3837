"""The published input schema and the parser give the same verdict on the same events.

Producers validate against `schemas/rebalance-planned.schema.json`; we validate with the pydantic
models. Generated events vary what the schema can express (types, patterns, enums, required and
unknown fields) and both must accept, or both refuse. Rules the schema cannot state (the sign of
an amount against its action, unique symbols after upper-casing, a plan's age, and the bounds of
a number written as a string, which JSON Schema cannot compare) are left alone here and have tests
of their own.
"""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.events import decode_event_object, parse_rebalance_event
from plan_executor.domain.schemas import render_schemas
from plan_executor.domain.validation import PlanValidationError

EVENTS = Path(__file__).resolve().parents[3] / "events"
BASES = {
    name: json.loads((EVENTS / name).read_text())
    for name in ("mixed-sell-and-buy.json", "alchemiser-rebalance-planned.json")
}
VALIDATOR = jsonschema.Draft202012Validator(
    json.loads(render_schemas()["rebalance-planned.schema.json"])
)
DELETE = object()

PLAN = ("detail", "rebalance_plan")
VALUES: dict[tuple[str | int, ...], list[Any]] = {
    ("detail-type",): ["RebalancePlanned", "Something", "rebalanceplanned", "", DELETE],
    ("version",): ["0", 0, DELETE],
    ("detail", "schema_version"): ["1.0", "1.0.0", "01.0", "2.0", "1", "1.0.0.0", " 1.0", 1.0],
    (*PLAN, "schema_version"): ["1.2", "1.02", "001.0", "1.x", DELETE],
    ("detail", "trades_required"): [True, False, "true", 1, None, DELETE],
    ("detail", "event_type"): ["RebalancePlanned", "TradeExecuted", None, DELETE],
    (*PLAN, "execution_urgency"): ["LOW", "URGENT", "normal", "ASAP", None, DELETE],
    (*PLAN, "estimated_duration_minutes"): [5, "5", 0, 10_081, 2.0, 2.5, True, None, DELETE],
    (*PLAN, "plan_id"): ["p-1", "p" * 65, "portfolio_v2_workflow-1_17", "../x", "", DELETE],
    (*PLAN, "items", 0, "priority"): [1, 5, "1", 0, 6, 1.0, 2.5, True, None, DELETE],
    (*PLAN, "items", 0, "symbol"): ["AAPL", "aapl", "XYZ.A", "xyz/a", "A" * 11, "1AB", ""],
    (*PLAN, "items", 0, "current_weight"): ["0.5", 0.5, "0E+17", 1, 1.5, -0.1, "x", True],
    (*PLAN, "items", 0, "strategy_id"): ["s-1", "s" * 65, "s 1", None],
    (*PLAN, "items", 0, "surprise"): [1],
    (*PLAN, "surprise"): [1],
    ("detail", "surprise"): [1],
    ("surprise",): [1],
}


def _mutated(base: dict[str, Any], changes: list[tuple[tuple[str | int, ...], Any]]) -> Any:
    event = copy.deepcopy(base)
    for path, value in changes:
        node = event
        for step in path[:-1]:
            node = node[step]
        if value is DELETE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return event


def _parser_accepts(event: Any) -> bool:
    try:
        parse_rebalance_event(decode_event_object(json.dumps(event)))
    except PlanValidationError:
        return False
    return True


changes = st.lists(
    st.sampled_from(sorted(VALUES, key=str)).flatmap(
        lambda path: st.tuples(st.just(path), st.sampled_from(VALUES[path]))
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(BASES)), changes)
def test_the_schema_and_the_parser_give_the_same_verdict(
    base: str, mutation: list[tuple[tuple[str | int, ...], Any]]
) -> None:
    event = _mutated(BASES[base], mutation)
    schema_errors = [error.message for error in VALIDATOR.iter_errors(event)]
    assert _parser_accepts(event) is (not schema_errors), (mutation, schema_errors)
