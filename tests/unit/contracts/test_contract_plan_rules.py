"""Each input rule, one case at a time: the violation names the field and the rule."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from contract_paths import DELETE, set_at

from plan_executor.domain.enums import Action, Urgency
from plan_executor.domain.events import (
    parse_rebalance_detail,
    parse_rebalance_event,
    plan_age_violation,
)
from plan_executor.domain.json_object import MAX_NODES
from plan_executor.domain.plan import RebalancePlan
from plan_executor.domain.validation import PlanValidationError

MakeEvent = Callable[[], dict[str, Any]]
PLAN = "detail.rebalance_plan"
ITEM0 = f"{PLAN}.items[0]"  # AAPL, SELL -3234.56
ITEM1 = f"{PLAN}.items[1]"  # MSFT, BUY 2500.00
ITEM4 = f"{PLAN}.items[4]"  # AMZN, HOLD 0


def _violations(raw: object) -> list[tuple[str, str]]:
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(raw)  # type: ignore[arg-type]
    return [(v.field, v.rule) for v in caught.value.violations]


REFUSED: list[tuple[str, object, str, str]] = [
    # (path changed, new value, field reported, rule)
    ("detail.event_id", "", "detail.event_id", "min_length"),
    ("detail.event_id", "e" * 129, "detail.event_id", "max_length"),
    ("detail.correlation_id", "has space", "detail.correlation_id", "pattern"),
    ("detail.causation_id", "../x", "detail.causation_id", "pattern"),
    (f"{PLAN}.correlation_id", 42, f"{PLAN}.correlation_id", "string_type"),
    (f"{PLAN}.plan_id", "p" * 65, f"{PLAN}.plan_id", "max_length"),
    (f"{PLAN}.plan_id", "", f"{PLAN}.plan_id", "min_length"),
    (f"{PLAN}.plan_id", "../etc", f"{PLAN}.plan_id", "pattern"),
    (f"{PLAN}.plan_id", "a b", f"{PLAN}.plan_id", "pattern"),
    (f"{PLAN}.plan_id", "a;b", f"{PLAN}.plan_id", "pattern"),
    (f"{PLAN}.plan_id", "..hidden", f"{PLAN}.plan_id", "path_safe"),
    (f"{PLAN}.plan_id", ".x", f"{PLAN}.plan_id", "path_safe"),
    (f"{PLAN}.plan_id", "-x", f"{PLAN}.plan_id", "path_safe"),
    (f"{PLAN}.plan_id", "a..b", f"{PLAN}.plan_id", "path_safe"),
    (f"{ITEM0}.symbol", "A" * 11, f"{ITEM0}.symbol", "max_length"),
    (f"{ITEM0}.symbol", "AAPL$", f"{ITEM0}.symbol", "pattern"),
    (f"{ITEM0}.symbol", "BRK.B.C", f"{ITEM0}.symbol", "pattern"),
    (f"{ITEM0}.symbol", "1ABC", f"{ITEM0}.symbol", "pattern"),
    (f"{ITEM0}.symbol", "", f"{ITEM0}.symbol", "min_length"),
    (f"{ITEM0}.symbol", 123, f"{ITEM0}.symbol", "string_type"),
    (f"{ITEM0}.action", "sell", f"{ITEM0}.action", "allowed_values"),
    (f"{ITEM0}.action", "SHORT", f"{ITEM0}.action", "allowed_values"),
    (f"{ITEM0}.trade_amount", "3234.56", f"{ITEM0}.trade_amount", "sign_agrees_with_action"),
    (f"{ITEM0}.trade_amount", "0", f"{ITEM0}.trade_amount", "sign_agrees_with_action"),
    (f"{ITEM1}.trade_amount", "0.00", f"{ITEM1}.trade_amount", "sign_agrees_with_action"),
    (f"{ITEM4}.trade_amount", "0.01", f"{ITEM4}.trade_amount", "sign_agrees_with_action"),
    (f"{ITEM0}.trade_amount", DELETE, f"{ITEM0}.trade_amount", "required"),
    (f"{ITEM0}.current_weight", "1.01", f"{ITEM0}.current_weight", "max_value"),
    (f"{ITEM0}.target_weight", "-0.01", f"{ITEM0}.target_weight", "min_value"),
    (f"{ITEM0}.weight_diff", "-1.5", f"{ITEM0}.weight_diff", "min_value"),
    (f"{ITEM0}.current_value", "-1", f"{ITEM0}.current_value", "min_value"),
    (f"{ITEM0}.priority", 0, f"{ITEM0}.priority", "min_value"),
    (f"{ITEM0}.priority", 6, f"{ITEM0}.priority", "max_value"),
    (f"{ITEM0}.priority", True, f"{ITEM0}.priority", "integer_type"),
    (f"{ITEM0}.priority", 1.5, f"{ITEM0}.priority", "integer_type"),
    (f"{ITEM0}.priority", "2", f"{ITEM0}.priority", "integer_type"),
    (f"{ITEM0}.strategy_id", "a b", f"{ITEM0}.strategy_id", "pattern"),
    (f"{ITEM0}.colour", "red", f"{ITEM0}.colour", "unknown_field"),
    (f"{PLAN}.items", [], f"{PLAN}.items", "min_items"),
    (f"{PLAN}.items", {}, f"{PLAN}.items", "array_type"),
    (f"{PLAN}.total_portfolio_value", "-0.01", f"{PLAN}.total_portfolio_value", "min_value"),
    (f"{PLAN}.max_drift_tolerance", 2, f"{PLAN}.max_drift_tolerance", "max_value"),
    (f"{PLAN}.estimated_duration_minutes", 0, f"{PLAN}.estimated_duration_minutes", "min_value"),
    (f"{PLAN}.execution_urgency", "FAST", f"{PLAN}.execution_urgency", "allowed_values"),
    (f"{PLAN}.schema_version", "1", f"{PLAN}.schema_version", "pattern"),
    (f"{PLAN}.schema_version", "v1.0", f"{PLAN}.schema_version", "pattern"),
    (f"{PLAN}.schema_version", "0.9", f"{PLAN}.schema_version", "schema_major_1"),
    (f"{PLAN}.schema_version", "10.0.1", f"{PLAN}.schema_version", "schema_major_1"),
    (f"{PLAN}.schema_version", 1.0, f"{PLAN}.schema_version", "string_type"),
    (f"{PLAN}.timestamp", "2025-06-02T14:30:01", f"{PLAN}.timestamp", "timezone_required"),
    (f"{PLAN}.timestamp", 1748874601, f"{PLAN}.timestamp", "datetime_format"),
    (f"{PLAN}.timestamp", "1748874601", f"{PLAN}.timestamp", "datetime_format"),
    (f"{PLAN}.timestamp", "2025-13-01T00:00:00Z", f"{PLAN}.timestamp", "datetime_format"),
    (f"{PLAN}.timestamp", "yesterday", f"{PLAN}.timestamp", "datetime_format"),
    (f"{PLAN}.metadata", ["not", "an", "object"], f"{PLAN}.metadata", "object_type"),
    (f"{PLAN}.metadata", {"k": "v" * 1025}, f"{PLAN}.metadata", "metadata_bounds"),
    (
        f"{PLAN}.metadata",
        dict.fromkeys(map(str, range(MAX_NODES + 1)), 1),
        f"{PLAN}.metadata",
        "metadata_bounds",
    ),
    (f"{PLAN}.metadata", {"a": [[[[[[["deep"]]]]]]]}, f"{PLAN}.metadata", "metadata_bounds"),
    (f"{PLAN}.metadata", {"x": float("nan")}, f"{PLAN}.metadata", "finite_number"),
    ("detail.trades_required", "false", "detail.trades_required", "bool_type"),
    ("detail.trades_required", 0, "detail.trades_required", "bool_type"),
    ("detail.event_type", "SignalGenerated", "detail.event_type", "allowed_values"),
    ("detail.schema_version", "2.0", "detail.schema_version", "schema_major_1"),
    ("detail.rebalance_plan", DELETE, "detail.rebalance_plan", "required"),
    ("detail.extra", 1, "detail.extra", "unknown_field"),
    ("detail-type", DELETE, "detail-type", "required"),
    ("account", "12345", "account", "pattern"),
    ("time", "2025-06-02T14:30:05", "time", "timezone_required"),
    ("id", "", "id", "min_length"),
    ("detail", [], "detail", "object_type"),
]


@pytest.mark.parametrize(("path", "value", "field", "rule"), REFUSED)
def test_refused_input_names_field_and_rule(
    valid_raw_event: MakeEvent, path: str, value: object, field: str, rule: str
) -> None:
    assert (field, rule) in _violations(set_at(valid_raw_event(), path, value))


ACCEPTED: list[tuple[str, object]] = [
    (f"{PLAN}.plan_id", "plan:2025.06.02-a_b"),
    (f"{PLAN}.plan_id", "p" * 64),
    ("detail.event_id", "e" * 128),
    (f"{ITEM0}.symbol", "BRK/B"),
    (f"{ITEM0}.priority", 2.0),
    (f"{PLAN}.schema_version", "1.2.3"),
    (f"{PLAN}.execution_urgency", DELETE),
    (f"{PLAN}.estimated_duration_minutes", DELETE),
    (f"{ITEM0}.strategy_id", DELETE),
    ("detail.trades_required", DELETE),
    ("detail.metadata", {"run": {"attempts": [1, 2.5, None, True, "x"]}}),
    ("replay-name", "archive-replay-1"),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED)
def test_accepted_variants_parse(valid_raw_event: MakeEvent, path: str, value: object) -> None:
    parse_rebalance_event(set_at(valid_raw_event(), path, value))


def test_symbols_are_upper_cased(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), f"{ITEM0}.symbol", "bf.b")
    assert parse_rebalance_event(raw).detail.rebalance_plan.items[0].symbol == "BF.B"


def test_duplicate_symbol_detected_after_upper_casing(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), f"{PLAN}.items[5].symbol", "msft")
    assert _violations(raw) == [(f"{PLAN}.items[5].symbol", "unique_symbols")]


def test_item_cap(valid_raw_event: MakeEvent) -> None:
    raw = valid_raw_event()
    template = raw["detail"]["rebalance_plan"]["items"][4]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    items = [dict(template, symbol=f"{letters[i // 26]}{letters[i % 26]}Z") for i in range(501)]
    set_at(raw, f"{PLAN}.items", items)
    assert _violations(raw) == [(f"{PLAN}.items", "max_items")]
    set_at(raw, f"{PLAN}.items", items[:500])
    assert len(parse_rebalance_event(raw).detail.rebalance_plan.items) == 500


def test_defaults(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), f"{PLAN}.execution_urgency", DELETE)
    set_at(raw, "detail.trades_required", DELETE)
    detail = parse_rebalance_event(raw).detail
    assert detail.rebalance_plan.execution_urgency is Urgency.NORMAL
    assert detail.trades_required is True


def test_timestamps_are_normalised_to_utc(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), f"{PLAN}.timestamp", "2025-06-02T16:30:01.512+02:00")
    stamp = parse_rebalance_event(raw).detail.rebalance_plan.timestamp
    assert stamp == datetime(2025, 6, 2, 14, 30, 1, 512000, tzinfo=UTC)
    assert stamp.utcoffset() is not None
    assert stamp.tzinfo is UTC


def test_metadata_numbers_become_decimal(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), "detail.metadata", {"buffer": 0.02, "n": 3, "s": "x"})
    metadata = parse_rebalance_event(raw).detail.metadata
    assert metadata == {"buffer": Decimal("0.02"), "n": Decimal(3), "s": "x"}


def test_not_a_mapping_is_reported_at_event_level() -> None:
    assert _violations([1, 2]) == [("event", "object_type")]


def test_detail_alone_reports_fields_under_detail(valid_raw_event: MakeEvent) -> None:
    raw_detail = set_at(valid_raw_event(), f"{ITEM0}.symbol", "A" * 11)["detail"]
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_detail(raw_detail)
    assert [(v.field, v.rule) for v in caught.value.violations] == [
        (f"{ITEM0}.symbol", "max_length")
    ]
    assert parse_rebalance_detail(valid_raw_event()["detail"]).rebalance_plan.plan_id


def test_reason_is_one_line_naming_field_rule_and_count(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), f"{ITEM0}.priority", 9)
    set_at(raw, f"{ITEM1}.priority", 0)
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(raw)
    error = caught.value
    assert error.reason == str(error)
    assert error.reason.startswith(f"{ITEM0}.priority: max_value (")
    assert error.reason.endswith("(+1 more)")
    assert "\n" not in error.reason


def test_reason_never_echoes_unbounded_input(valid_raw_event: MakeEvent) -> None:
    huge = "x" * 10_000 + "\nEVIL"
    raw = set_at(valid_raw_event(), f"{PLAN}.plan_id", huge)
    set_at(raw, "detail." + "k" * 5_000, huge)
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(raw)
    for violation in caught.value.violations:
        assert len(violation.field) < 100
        assert len(violation.message) <= 200
        assert "EVIL" not in violation.message
    assert len(caught.value.reason) < 400
    assert "\n" not in caught.value.reason


def test_many_bad_items_are_counted_but_bounded(valid_raw_event: MakeEvent) -> None:
    raw = valid_raw_event()
    template = dict(raw["detail"]["rebalance_plan"]["items"][4], priority=0)
    items = [dict(template, symbol=f"S{i}") for i in range(200)]
    set_at(raw, f"{PLAN}.items", items)
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(raw)
    assert caught.value.total == 200
    assert len(caught.value.violations) == 50
    assert caught.value.reason.endswith("(+199 more)")


def _plan(make: MakeEvent) -> RebalancePlan:
    return parse_rebalance_event(make()).detail.rebalance_plan


@pytest.mark.parametrize(
    ("offset", "rule"),
    [
        (timedelta(seconds=300), None),
        (timedelta(seconds=300, microseconds=1), "max_plan_age"),
        (timedelta(hours=3), "max_plan_age"),
        (timedelta(0), None),
        (-timedelta(seconds=60), None),
        (-timedelta(seconds=61), "not_in_future"),
    ],
)
def test_plan_age_rule(valid_raw_event: MakeEvent, offset: timedelta, rule: str | None) -> None:
    plan = _plan(valid_raw_event)
    violation = plan_age_violation(plan, plan.timestamp + offset, timedelta(seconds=300))
    if rule is None:
        assert violation is None
    else:
        assert violation is not None
        assert (violation.field, violation.rule) == ("detail.rebalance_plan.timestamp", rule)


def test_plan_age_message_is_readable(valid_raw_event: MakeEvent) -> None:
    plan = _plan(valid_raw_event)
    now = plan.timestamp + timedelta(hours=3, minutes=25, seconds=5)
    violation = plan_age_violation(plan, now, timedelta(seconds=300))
    assert violation is not None
    assert violation.message == "plan is 3h25m05s old, the limit is 5m00s"


def test_plan_age_needs_an_aware_now(valid_raw_event: MakeEvent) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_age_violation(_plan(valid_raw_event), datetime(2025, 6, 2), timedelta(seconds=1))


def test_plan_helpers(valid_raw_event: MakeEvent) -> None:
    plan = _plan(valid_raw_event)
    assert plan.notional_for(Action.SELL) == Decimal("9484.81")
    assert plan.notional_for(Action.BUY) == Decimal("8984.81")
    assert [item.symbol for item in plan.items_for(Action.HOLD)] == ["AMZN"]
    assert plan.items[0].planned_notional == Decimal("3234.56")
    assert not plan.items[0].is_full_exit
