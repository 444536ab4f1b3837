"""plan_fingerprint: same plan content -> same hash, any change of content -> another hash."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from contract_paths import DELETE, set_at

from plan_executor.domain.events import parse_rebalance_event
from plan_executor.domain.fingerprint import canonical_plan_json, plan_fingerprint

MakeEvent = Callable[[], dict[str, Any]]
PLAN = "detail.rebalance_plan"


def _fingerprint(raw: dict[str, Any]) -> str:
    return plan_fingerprint(parse_rebalance_event(raw).detail.rebalance_plan)


def test_fingerprint_is_sha256_hex(valid_raw_event: MakeEvent) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", _fingerprint(valid_raw_event()))


SAME_PLAN: list[tuple[str, object]] = [
    (f"{PLAN}.items[0].trade_amount", -3234.56),
    (f"{PLAN}.items[0].trade_amount", "-3234.5600"),
    (f"{PLAN}.items[1].trade_amount", "2500"),
    (f"{PLAN}.items[0].symbol", "aapl"),
    (f"{PLAN}.timestamp", "2025-06-02T10:30:01.512-04:00"),
    (f"{PLAN}.execution_urgency", "NORMAL"),
    (f"{PLAN}.items[0].priority", 1.0),
    (f"{PLAN}.items[0].target_weight", "0.120000000000000000"),
    ("detail.event_id", "another-delivery"),
    ("id", "another-envelope"),
]


@pytest.mark.parametrize(("path", "value"), SAME_PLAN)
def test_representation_changes_keep_the_fingerprint(
    valid_raw_event: MakeEvent, path: str, value: object
) -> None:
    assert _fingerprint(set_at(valid_raw_event(), path, value)) == _fingerprint(valid_raw_event())


def test_absent_optional_equals_explicit_default(valid_raw_event: MakeEvent) -> None:
    without = set_at(valid_raw_event(), f"{PLAN}.execution_urgency", DELETE)
    assert _fingerprint(without) == _fingerprint(valid_raw_event())


OTHER_PLAN: list[tuple[str, object]] = [
    (f"{PLAN}.items[0].trade_amount", "-3234.57"),
    (f"{PLAN}.items[0].symbol", "JNJ"),
    (f"{PLAN}.items[0].priority", 2),
    (f"{PLAN}.items[0].target_weight", "0.120000000000000001"),
    (f"{PLAN}.plan_id", "rebal-other"),
    (f"{PLAN}.timestamp", "2025-06-02T14:30:01.513Z"),
    (f"{PLAN}.execution_urgency", "URGENT"),
    (f"{PLAN}.metadata", {"planner": "other"}),
    (f"{PLAN}.items[0].strategy_id", DELETE),
]


@pytest.mark.parametrize(("path", "value"), OTHER_PLAN)
def test_content_changes_change_the_fingerprint(
    valid_raw_event: MakeEvent, path: str, value: object
) -> None:
    assert _fingerprint(set_at(valid_raw_event(), path, value)) != _fingerprint(valid_raw_event())


def test_item_order_is_part_of_the_plan(valid_raw_event: MakeEvent) -> None:
    raw = valid_raw_event()
    raw["detail"]["rebalance_plan"]["items"].reverse()
    assert _fingerprint(raw) != _fingerprint(valid_raw_event())


def test_long_decimals_are_not_rounded_into_each_other(valid_raw_event: MakeEvent) -> None:
    # Metadata numbers may carry more digits than Decimal's 28-digit context: no rounding.
    base = "1234567890.123456789012345678901234"
    first = set_at(valid_raw_event(), f"{PLAN}.metadata", {"n": Decimal(base + "1")})
    second = set_at(valid_raw_event(), f"{PLAN}.metadata", {"n": Decimal(base + "2")})
    assert _fingerprint(first) != _fingerprint(second)


def test_canonical_json_has_plain_numbers_and_utc(valid_raw_event: MakeEvent) -> None:
    text = canonical_plan_json(parse_rebalance_event(valid_raw_event()).detail.rebalance_plan)
    assert '"trade_amount":"-3234.56"' in text
    assert '"timestamp":"2025-06-02T14:30:01.512000+00:00"' in text
    assert " " not in text
    assert re.search(r'"-?[0-9.]+[eE][+-]?[0-9]+"', text) is None
