"""Numbers: strings and JSON numbers become exact Decimals; floats go through their repr."""

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import PydanticCustomError

from plan_executor.domain.events import (
    decode_event_json,
    decode_event_object,
    parse_rebalance_event,
)
from plan_executor.domain.validation import PlanValidationError
from plan_executor.domain.wire_values import RECORD_LIMITS, fixed_point, to_decimal

AMOUNT = "detail.rebalance_plan.items[0].trade_amount"


def _rules_for(raw: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(raw)
    return {(v.field, v.rule) for v in caught.value.violations}


def _with_amount(make: Callable[[], dict[str, Any]], value: object) -> dict[str, Any]:
    raw = make()
    raw["detail"]["rebalance_plan"]["items"][0]["trade_amount"] = value
    return raw


def test_float_point_one_becomes_decimal_point_one() -> None:
    assert to_decimal(0.1).as_tuple() == Decimal("0.1").as_tuple()


def test_float_inputs_in_a_plain_json_loads_dict_parse_by_repr(
    valid_raw_event: Callable[[], dict[str, Any]],
) -> None:
    raw = valid_raw_event()
    item = raw["detail"]["rebalance_plan"]["items"][1]
    item["current_weight"], item["target_weight"], item["weight_diff"] = 0.1, 0.2, 0.1
    item["trade_amount"] = 2500.1
    parsed = parse_rebalance_event(raw).detail.rebalance_plan.items[1]
    assert parsed.current_weight.as_tuple() == Decimal("0.1").as_tuple()
    assert parsed.target_weight.as_tuple() == Decimal("0.2").as_tuple()
    assert parsed.trade_amount.as_tuple() == Decimal("2500.1").as_tuple()


def test_whole_event_through_plain_json_loads_still_parses(events_dir: Path) -> None:
    # What the Lambda runtime hands over: JSON numbers already turned into floats.
    raw = json.loads((events_dir / "mixed-sell-and-buy.json").read_text())
    assert isinstance(raw["detail"]["rebalance_plan"]["items"][1]["trade_amount"], float)
    item = parse_rebalance_event(raw).detail.rebalance_plan.items[1]
    assert item.trade_amount.as_tuple() == Decimal("2500.0").as_tuple()
    assert item.current_weight.as_tuple() == Decimal("0.14").as_tuple()


def test_json_number_text_keeps_every_digit() -> None:
    decoded = decode_event_json('{"a": 1234.560, "b": 0.1000000000000000055511151231257827}')
    assert isinstance(decoded, dict)
    assert decoded["a"].as_tuple() == Decimal("1234.560").as_tuple()
    assert to_decimal(decoded["b"], RECORD_LIMITS) == Decimal(
        "0.1000000000000000055511151231257827"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.56", "1234.56"),
        ("-0.50", "-0.50"),
        ("1E+2", "100"),
        ("2.5e3", "2500"),
        ("1e-7", "0.0000001"),
        (7, "7"),
        (Decimal("12.3400"), "12.3400"),
        (1e-7, "0.0000001"),
    ],
)
def test_accepted_numbers_and_their_fixed_point_form(value: object, expected: str) -> None:
    assert fixed_point(to_decimal(value)) == expected


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (True, "number_type"),
        (False, "number_type"),
        (None, "number_type"),
        ([1], "number_type"),
        (float("nan"), "finite_number"),
        (float("inf"), "finite_number"),
        (Decimal("NaN"), "finite_number"),
        (Decimal("-Infinity"), "finite_number"),
        ("NaN", "number_format"),
        ("1,000.00", "number_format"),
        (" 12", "number_format"),
        ("12 ", "number_format"),
        ("$12", "number_format"),
        ("١٢", "number_format"),
        ("1" * 65, "number_format"),
        ("1e999999", "number_bounds"),
        ("1e15", "number_bounds"),
        (10**15, "number_bounds"),
        ("1e-46", "number_bounds"),
        ("12345678901234.12345678901234567", "number_bounds"),
        (1e300, "number_bounds"),
    ],
)
def test_refused_numbers_name_their_rule(value: object, rule: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        to_decimal(value)
    assert caught.value.type == rule


def test_bool_trade_amount_is_refused_in_an_event(
    valid_raw_event: Callable[[], dict[str, Any]],
) -> None:
    assert (AMOUNT, "number_type") in _rules_for(_with_amount(valid_raw_event, True))


def test_huge_exponent_in_raw_json_is_refused(
    valid_raw_event: Callable[[], dict[str, Any]],
) -> None:
    text = json.dumps(_with_amount(valid_raw_event, "@@"), default=str).replace('"@@"', "-1e999999")
    raw = decode_event_object(text)
    assert (AMOUNT, "number_bounds") in _rules_for(dict(raw))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_literals_are_a_syntax_error(literal: str) -> None:
    with pytest.raises(PlanValidationError) as caught:
        decode_event_json('{"a": ' + literal + "}")
    assert [(v.field, v.rule) for v in caught.value.violations] == [("event", "json_syntax")]


def test_non_object_json_is_refused() -> None:
    with pytest.raises(PlanValidationError) as caught:
        decode_event_object("[1, 2]")
    assert caught.value.violations[0].rule == "object_type"


def test_oversized_text_is_refused_before_decoding() -> None:
    with pytest.raises(PlanValidationError) as caught:
        decode_event_json(b" " * (1024 * 1024 + 1))
    assert caught.value.violations[0].rule == "max_size"
