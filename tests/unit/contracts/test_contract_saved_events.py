"""Every saved event parses, or fails, exactly as its file name says."""

from datetime import timedelta
from pathlib import Path

import pytest

from plan_executor.domain.enums import Action, Urgency
from plan_executor.domain.events import (
    decode_event_object,
    parse_rebalance_event,
    plan_age_violation,
)
from plan_executor.domain.validation import PlanValidationError

MAX_PLAN_AGE = timedelta(seconds=300)

# file name -> None (accepted) or the (field, rule) it must be rejected for.
EXPECTED: dict[str, tuple[str, str] | None] = {
    "mixed-sell-and-buy.json": None,
    "full-liquidation.json": None,
    "buys-only.json": None,
    "no-trades-required.json": None,
    "alchemiser-rebalance-planned.json": None,
    "alchemiser-no-trades.json": None,
    "rejected-stale-plan.json": ("detail.rebalance_plan.timestamp", "max_plan_age"),
    "rejected-wrong-sign.json": (
        "detail.rebalance_plan.items[2].trade_amount",
        "sign_agrees_with_action",
    ),
    "rejected-duplicate-symbol.json": ("detail.rebalance_plan.items[3].symbol", "unique_symbols"),
    "rejected-missing-plan-id.json": ("detail.rebalance_plan.plan_id", "required"),
    "rejected-naive-timestamp.json": ("detail.rebalance_plan.timestamp", "timezone_required"),
    "rejected-schema-v2.json": ("detail.schema_version", "schema_major_1"),
}


def _saved_event_files(events_dir: Path) -> list[str]:
    return sorted(path.name for path in events_dir.glob("*.json"))


def _violations_of(path: Path) -> list[tuple[str, str]]:
    """(field, rule) pairs: validation failures, then the stale rule at the envelope time."""
    try:
        event = parse_rebalance_event(decode_event_object(path.read_bytes()))
    except PlanValidationError as error:
        return [(v.field, v.rule) for v in error.violations]
    stale = plan_age_violation(event.detail.rebalance_plan, event.time, MAX_PLAN_AGE)
    return [] if stale is None else [(stale.field, stale.rule)]


def test_every_saved_event_has_an_expectation(events_dir: Path) -> None:
    assert _saved_event_files(events_dir) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_event_outcome_matches_its_name(events_dir: Path, name: str) -> None:
    expected = EXPECTED[name]
    violations = _violations_of(events_dir / name)
    if expected is None:
        assert violations == []
    else:
        assert name.startswith("rejected-")
        assert expected in violations


def test_rejected_events_fail_for_one_reason_only(events_dir: Path) -> None:
    # Each rejected file differs from a valid one in one respect (schema v2 sets both versions).
    for name, expected in EXPECTED.items():
        if expected is None:
            continue
        fields = {field for field, _ in _violations_of(events_dir / name)}
        allowed = {expected[0], "detail.rebalance_plan.schema_version"}
        assert fields <= allowed, name


def test_mixed_event_mixes_strings_and_numbers_and_has_every_side(events_dir: Path) -> None:
    text = (events_dir / "mixed-sell-and-buy.json").read_text()
    assert '"trade_amount": "-3234.56"' in text
    assert '"trade_amount": 2500.00' in text
    event = parse_rebalance_event(decode_event_object(text))
    plan = event.detail.rebalance_plan
    assert {item.action for item in plan.items} == set(Action)
    assert "BRK.B" in {item.symbol for item in plan.items}
    assert plan.execution_urgency is Urgency.NORMAL
    assert str(plan.items[0].trade_amount) == "-3234.56"


def test_full_liquidation_is_all_full_exits(events_dir: Path) -> None:
    event = parse_rebalance_event(
        decode_event_object((events_dir / "full-liquidation.json").read_bytes())
    )
    assert all(item.is_full_exit for item in event.detail.rebalance_plan.items)


def test_no_trades_required_event_says_so(events_dir: Path) -> None:
    text = (events_dir / "no-trades-required.json").read_bytes()
    event = parse_rebalance_event(decode_event_object(text))
    assert event.detail.trades_required is False


def test_valid_plans_are_a_few_seconds_before_the_envelope(events_dir: Path) -> None:
    for name, expected in EXPECTED.items():
        if expected is not None:
            continue
        event = parse_rebalance_event(decode_event_object((events_dir / name).read_bytes()))
        lag = event.time - event.detail.rebalance_plan.timestamp
        assert timedelta(0) < lag < timedelta(seconds=10), name


def test_events_readme_lists_every_file(events_dir: Path) -> None:
    readme = (events_dir / "README.md").read_text()
    for name in EXPECTED:
        assert f"| {name} |" in readme
