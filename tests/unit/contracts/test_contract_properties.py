"""Properties: valid plans survive JSON round trips exactly; corrupted events never parse."""

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from contract_paths import DELETE, get_at, set_at
from contract_strategies import rebalance_events, to_json_text
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_executor.domain.events import decode_event_object, parse_rebalance_event
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.validation import PlanValidationError

PLAN = "detail.rebalance_plan"


def decimal_tuples(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, Decimal.as_tuple()) for every Decimal in a nested structure."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from decimal_tuples(value, f"{path}.{key}")
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from decimal_tuples(value, f"{path}[{index}]")
    elif isinstance(node, Decimal):
        yield path, node.as_tuple()


@settings(max_examples=150, deadline=None)
@given(raw=rebalance_events(), style=st.sampled_from(["strings", "numbers", "mixed"]))
def test_valid_event_survives_json_round_trip_digit_for_digit(
    raw: dict[str, Any], style: str
) -> None:
    first = parse_rebalance_event(decode_event_object(to_json_text(raw, style)))
    again = parse_rebalance_event(decode_event_object(first.model_dump_json()))

    sent = dict(decimal_tuples(raw))
    parsed = dict(decimal_tuples(first.model_dump(mode="python", by_alias=True)))
    reparsed = dict(decimal_tuples(again.model_dump(mode="python", by_alias=True)))
    assert sent == parsed == reparsed
    assert len(sent) >= 6 * len(raw["detail"]["rebalance_plan"]["items"]) + 3
    assert again == first
    assert plan_fingerprint(again.detail.rebalance_plan) == plan_fingerprint(
        first.detail.rebalance_plan
    )


REQUIRED_PATHS = [
    "version", "id", "detail-type", "source", "account", "time", "region", "detail",
    "detail.event_id", "detail.correlation_id", "detail.causation_id", "detail.timestamp",
    "detail.schema_version", "detail.rebalance_plan",
    f"{PLAN}.plan_id", f"{PLAN}.correlation_id", f"{PLAN}.causation_id", f"{PLAN}.timestamp",
    f"{PLAN}.schema_version", f"{PLAN}.items", f"{PLAN}.total_portfolio_value",
    f"{PLAN}.total_trade_value", f"{PLAN}.max_drift_tolerance",
]  # fmt: skip
ITEM_FIELDS = [
    "symbol", "action", "trade_amount", "current_weight", "target_weight", "weight_diff",
    "current_value", "target_value", "priority",
]  # fmt: skip
TRACE_IDS = ["id", "detail.event_id", "detail.correlation_id", "detail.causation_id",
             f"{PLAN}.correlation_id", f"{PLAN}.causation_id"]  # fmt: skip
TIMESTAMPS = ["time", "detail.timestamp", f"{PLAN}.timestamp"]
WRONG_TYPES: list[object] = [[], {}, True, None, ["x"], {"a": 1}]


def _within(reported: str, corrupted: str) -> bool:
    """The reported field is the corrupted one or inside it ({} for `detail`: its fields)."""
    return reported == corrupted or reported.startswith((corrupted + ".", corrupted + "["))


KINDS = ["drop", "drop_item_field", "wrong_type", "flip_sign", "duplicate", "naive",
         "oversize", "unsafe_id", "schema_major"]  # fmt: skip


@st.composite
def corruptions(draw: st.DrawFn, raw: dict[str, Any], kind: str) -> tuple[str, set[str]]:
    """Corrupt `raw` in place; return the field that must be named and the rules allowed."""
    items = raw["detail"]["rebalance_plan"]["items"]
    index = draw(st.integers(0, len(items) - 1))
    item = f"{PLAN}.items[{index}]"
    if kind == "drop":
        path = draw(st.sampled_from(REQUIRED_PATHS))
        set_at(raw, path, DELETE)
        return path, {"required"}
    if kind == "drop_item_field":
        path = f"{item}.{draw(st.sampled_from(ITEM_FIELDS))}"
        set_at(raw, path, DELETE)
        return path, {"required"}
    if kind == "wrong_type":
        path = draw(st.sampled_from([*REQUIRED_PATHS, *(f"{item}.{f}" for f in ITEM_FIELDS)]))
        value = draw(st.sampled_from(WRONG_TYPES))
        set_at(raw, path, value)
        return path, set()  # any rule, as long as this field is named
    if kind == "flip_sign":
        path = f"{item}.trade_amount"
        amount = get_at(raw, path)
        set_at(raw, path, -amount if amount != 0 else Decimal("0.01"))
        return path, {"sign_agrees_with_action"}
    if kind == "duplicate":
        if len(items) < 2:
            items.append(copy.deepcopy(items[0]))
            items[1]["symbol"] = items[1]["symbol"].lower()
            return f"{PLAN}.items[1].symbol", {"unique_symbols"}
        other = (index + draw(st.integers(1, len(items) - 1))) % len(items)
        items[index]["symbol"] = items[other]["symbol"].swapcase()
        return f"{PLAN}.items[{max(index, other)}].symbol", {"unique_symbols"}
    if kind == "naive":
        path = draw(st.sampled_from(TIMESTAMPS))
        set_at(raw, path, "2025-06-02T14:30:01.250")
        return path, {"timezone_required"}
    if kind == "oversize":
        path, limit = draw(st.sampled_from(
            [(p, 128) for p in TRACE_IDS] + [(f"{PLAN}.plan_id", 64), (f"{item}.symbol", 10)]
        ))  # fmt: skip
        set_at(raw, path, "A" * draw(st.integers(limit + 1, limit + 5000)))
        return path, {"max_length"}
    if kind == "unsafe_id":
        path = draw(st.sampled_from([*TRACE_IDS, f"{PLAN}.plan_id"]))
        current = str(get_at(raw, path))[:40]
        bad = draw(st.sampled_from(["../", " ", "/", "\n", "..", "\x00", "é"]))
        at = draw(st.integers(0, len(current)))
        candidate = current[:at] + bad + current[at:]
        if bad == ".." and path != f"{PLAN}.plan_id":
            candidate = "../" + current  # '..' alone is fine in trace ids
        set_at(raw, path, candidate)
        return path, {"pattern", "path_safe"}
    path = draw(st.sampled_from(["detail.schema_version", f"{PLAN}.schema_version"]))
    major = draw(st.integers(0, 9999).filter(lambda m: m != 1))
    set_at(raw, path, f"{major}.{draw(st.integers(0, 99))}")
    return path, {"schema_major_1"}


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), raw=rebalance_events(), style=st.sampled_from(["strings", "numbers"]))
def test_corrupted_event_never_parses_and_names_the_field(
    kind: str, data: st.DataObject, raw: dict[str, Any], style: str
) -> None:
    field, rules = data.draw(corruptions(raw, kind))
    text = to_json_text(raw, style)
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(decode_event_object(text))
    violations = caught.value.violations
    named = [v for v in violations if _within(v.field, field)]
    assert named, (field, violations)
    assert all(v.field for v in violations)
    if rules:
        assert {v.rule for v in named} & rules, (rules, named)
