"""alchemiser's real `RebalancePlanned` events parse, each of their quirks on its own, and no
quirk opens a door the contract keeps shut."""

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.alchemiser_producer import (
    SIM_ACCOUNT_PORTFOLIO,
    Portfolio,
    producer_event,
    saved_events,
)

from plan_executor.domain.enums import Action, Side
from plan_executor.domain.events import (
    RebalancePlannedEvent,
    decode_event_object,
    parse_rebalance_event,
)
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.identifiers import MAX_PRODUCER_PLAN_ID_CHARS
from plan_executor.domain.json_object import MAX_NODES
from plan_executor.domain.ledger_keys import ledger_keys
from plan_executor.domain.money import Dollars
from plan_executor.domain.order_ids import (
    MAX_CLIENT_ORDER_ID_LENGTH,
    client_order_id,
    short_plan_hash,
)
from plan_executor.domain.plan import MAX_PLAN_ITEMS
from plan_executor.domain.validation import PlanValidationError
from plan_executor.domain.wire_values import to_decimal

PLANNED_AT = datetime(2026, 3, 2, 15, 1, 7, 123_456, tzinfo=UTC)
PLAN = ("detail", "rebalance_plan")


def _event() -> dict[str, Any]:
    return producer_event(SIM_ACCOUNT_PORTFOLIO, planned_at=PLANNED_AT)


def _parse(raw: dict[str, Any]) -> RebalancePlannedEvent:
    return parse_rebalance_event(decode_event_object(json.dumps(raw)))


def _violations(raw: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(PlanValidationError) as caught:
        _parse(raw)
    return {(v.field, v.rule) for v in caught.value.violations}


def _items(raw: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = raw["detail"]["rebalance_plan"]["items"]
    return items


def test_the_saved_producer_events_are_what_the_producer_builder_makes(events_dir: Path) -> None:
    for name, event in saved_events().items():
        assert json.loads((events_dir / name).read_text()) == event, name


def test_a_producer_event_parses_with_every_field_it_sends() -> None:
    raw = _event()
    event = _parse(raw)
    plan = event.detail.rebalance_plan
    assert event.source == "alchemiser.portfolio"
    assert plan.plan_id == raw["detail"]["rebalance_plan"]["plan_id"]
    assert [item.action for item in plan.items].count(Action.SELL) == 3
    assert [item.action for item in plan.items].count(Action.BUY) == 3
    assert [item.action for item in plan.items].count(Action.HOLD) == 1
    assert event.detail.allocation_comparison is not None
    assert event.detail.source_module == "portfolio_v2.handlers"
    assert plan.metadata is not None
    assert "strategy_attribution" in plan.metadata


def test_allocation_comparison_is_accepted_typed_and_recorded_not_traded() -> None:
    raw = _event()
    comparison = _parse(raw).detail.allocation_comparison
    assert comparison is not None
    sent = raw["detail"]["allocation_comparison"]
    assert {s: str(v) for s, v in comparison.target_values.items()} == {
        s: str(to_decimal(v)) for s, v in sent["target_values"].items()
    }
    without = copy.deepcopy(raw)
    del without["detail"]["allocation_comparison"]
    # Not used to trade: the plan, and so its fingerprint and order ids, are the same without it.
    assert plan_fingerprint(_parse(without).detail.rebalance_plan) == plan_fingerprint(
        _parse(raw).detail.rebalance_plan
    )


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (lambda c: c["deltas"].update({"../etc": "1"}), "deltas", "pattern"),
        (lambda c: c.update(surprise={}), "surprise", "unknown_field"),
        (lambda c: c["target_values"].update(AAPL="1e999"), "target_values.AAPL", "number_bounds"),
        (
            lambda c: c["current_values"].update({f"S{i}": "1" for i in range(MAX_PLAN_ITEMS + 1)}),
            "current_values",
            "max_items",
        ),
    ],
    ids=["bad-symbol-key", "unknown-field", "huge-number", "too-many-symbols"],
)
def test_allocation_comparison_stays_bounded(
    mutate: Callable[[dict[str, Any]], None], field: str, rule: str
) -> None:
    raw = _event()
    mutate(raw["detail"]["allocation_comparison"])
    violations = _violations(raw)
    assert any(
        f.startswith(f"detail.allocation_comparison.{field}") and r == rule for f, r in violations
    ), violations


def test_the_producers_plan_id_of_69_characters_is_accepted() -> None:
    raw = _event()
    plan_id = raw["detail"]["rebalance_plan"]["plan_id"]
    assert len(plan_id) == 69
    assert _parse(raw).detail.rebalance_plan.plan_id == plan_id


def test_a_plan_id_longer_than_64_is_accepted_only_in_the_producers_form() -> None:
    raw = _event()
    raw["detail"]["rebalance_plan"]["plan_id"] = "p" * 65
    assert ("detail.rebalance_plan.plan_id", "max_length") in _violations(raw)
    raw["detail"]["rebalance_plan"]["plan_id"] = "portfolio_v2_" + "a" * 129 + "_1"
    assert ("detail.rebalance_plan.plan_id", "max_length") in _violations(raw)
    raw["detail"]["rebalance_plan"]["plan_id"] = "portfolio_v2_a..b_1"
    assert ("detail.rebalance_plan.plan_id", "path_safe") in _violations(raw)


def _max_length_plan_id(last: str) -> str:
    plan_id = "portfolio_v2_" + "w" * 127 + last + "_" + "9" * 18
    assert len(plan_id) == MAX_PRODUCER_PLAN_ID_CHARS
    return plan_id


def test_ids_derived_from_a_maximum_length_plan_id_stay_valid_and_unique() -> None:
    plans = []
    for last in ("a", "b"):
        raw = _event()
        raw["detail"]["rebalance_plan"]["plan_id"] = _max_length_plan_id(last)
        plans.append(_parse(raw).detail.rebalance_plan)
    hashes = {short_plan_hash(plan_fingerprint(plan)) for plan in plans}
    assert len(hashes) == 2
    order_ids = {client_order_id(plan_hash, "BRK.B", Side.SELL, 9999) for plan_hash in hashes}
    assert len(order_ids) == 2
    assert all(len(order_id) <= MAX_CLIENT_ORDER_ID_LENGTH <= 128 for order_id in order_ids)
    day = PLANNED_AT.date()
    attempt = "0001-20260302T150107Z-0123abcd"
    keys = [ledger_keys(plan.plan_id, day, attempt) for plan in plans]
    assert keys[0].result != keys[1].result
    assert all(len(key.result.encode()) <= 1024 for key in keys)


def test_decimal_quotients_with_28_significant_digits_are_accepted_as_sent() -> None:
    raw = _event()
    weight = "0.3317962202059943568115926296"
    _items(raw)[0]["current_weight"] = weight
    _items(raw)[0]["target_value"] = "17195.293333333332645521600"
    item = _parse(raw).detail.rebalance_plan.items[0]
    assert str(item.current_weight) == weight
    assert str(item.target_value) == "17195.293333333332645521600"


def test_29_significant_digits_are_still_refused() -> None:
    raw = _event()
    _items(raw)[0]["current_weight"] = "0.33179622020599435681159262961"
    assert (
        "detail.rebalance_plan.items[0].current_weight",
        "number_bounds",
    ) in _violations(raw)


@pytest.mark.parametrize("zero", ["0E+17", "0E+23", "0E-60", "-0E+5", "0.000"])
def test_a_zero_is_zero_whatever_its_exponent(zero: str) -> None:
    raw = _event()
    exit_item = next(i for i in _items(raw) if i["symbol"] == "GOOGL")
    exit_item["target_weight"] = zero
    exit_item["target_value"] = zero
    item = next(i for i in _parse(raw).detail.rebalance_plan.items if i.symbol == "GOOGL")
    assert item.target_weight == 0
    assert item.target_value == 0
    assert item.is_full_exit


@pytest.mark.parametrize(
    ("amount", "planned"),
    [
        ("17195.293333333332645521600", "17195.29"),
        ("-2048.850409090909090909090909", "2048.85"),
        ("-0.009999999999999999999999999", "0.00"),
        ("1447.489999999999999999999999", "1447.48"),
    ],
)
def test_amounts_are_rounded_to_cents_toward_zero_before_they_size_anything(
    amount: str, planned: str
) -> None:
    raw = _event()
    item = _items(raw)[0]
    item["trade_amount"] = amount
    item["action"] = "SELL" if amount.startswith("-") else "BUY"
    parsed = _parse(raw).detail.rebalance_plan.items[0]
    assert parsed.planned_notional == Dollars(Decimal(planned))
    assert str(parsed.trade_amount) == amount.lstrip("+")


def test_strategy_attribution_of_16_strategies_over_the_largest_plan_fits_the_metadata_bound() -> (
    None
):
    raw = _event()
    strategies = [f"2026/strategy-{n:02d}.clj" for n in range(16)]
    symbols = [f"S{n:03d}" for n in range(MAX_PLAN_ITEMS)]
    raw["detail"]["rebalance_plan"]["metadata"]["strategy_attribution"] = {
        symbol: dict.fromkeys(strategies, 1 / 16) for symbol in symbols
    }
    metadata = _parse(raw).detail.rebalance_plan.metadata
    assert metadata is not None
    assert len(metadata["strategy_attribution"]) == MAX_PLAN_ITEMS
    raw["detail"]["rebalance_plan"]["metadata"]["more"] = list(range(MAX_NODES))
    assert ("detail.rebalance_plan.metadata", "metadata_bounds") in _violations(raw)


@pytest.mark.parametrize(
    ("where", "value", "rule"),
    [
        (("items", 0, "trade_amount"), "2048.85", "sign_agrees_with_action"),
        (("items", 0, "priority"), 0, "min_value"),
        (("items", 0, "priority"), 6, "max_value"),
        (("items", 0, "symbol"), "AAPL; DROP", "pattern"),
        (("schema_version",), "2.0.0", "schema_major_1"),
        (("items", 0, "strategy_weights"), {}, "unknown_field"),
        (("surprise",), 1, "unknown_field"),
    ],
)
def test_what_could_trade_wrongly_is_still_refused_in_a_producer_event(
    where: tuple[str | int, ...], value: object, rule: str
) -> None:
    raw = _event()
    node: Any = raw["detail"]["rebalance_plan"]
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    assert any(r == rule for _, r in _violations(raw))


def test_an_unknown_field_in_the_detail_is_still_refused() -> None:
    raw = _event()
    raw["detail"]["execution_hints"] = {"venue": "dark"}
    assert ("detail.execution_hints", "unknown_field") in _violations(raw)


# ---------------------------------------------------------------- generated producer plans

_SYMBOLS = ("AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "SPY", "BRK.B", "TQQQ", "SOXL", "BIL")
_money = st.decimals(min_value="0.01", max_value=60_000, places=2, allow_nan=False)


@st.composite
def producer_portfolios(draw: st.DrawFn) -> Portfolio:
    held = draw(st.lists(st.sampled_from(_SYMBOLS), unique=True, max_size=6))
    wanted = draw(st.lists(st.sampled_from(_SYMBOLS), unique=True, max_size=6))
    current = {
        s: draw(_money) * Decimal(draw(st.sampled_from(["1", "1.0000001", "0.37"]))) for s in held
    }
    parts = [Decimal(draw(st.integers(1, 9))) for _ in wanted]
    weights = {s: part / sum(parts) for s, part in zip(wanted, parts, strict=True)}
    correlation = "workflow-" + draw(st.uuids()).hex
    return Portfolio(
        current_values=current,
        target_weights=weights,
        portfolio_value=draw(st.decimals(min_value=1000, max_value=500_000, places=2)),
        cash=draw(_money),
        strategies=tuple(f"2026/s{n}.clj" for n in range(draw(st.integers(1, 16)))),
        deployment_fraction=draw(st.sampled_from([Decimal(1), Decimal("0.95"), Decimal(2) / 3])),
        ids={"correlation_id": correlation},
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    producer_portfolios(),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_every_generated_producer_plan_parses_and_round_trips(
    portfolio: Portfolio, planned: datetime
) -> None:
    raw = producer_event(portfolio, planned_at=planned.replace(tzinfo=UTC))
    event = _parse(raw)
    written = event.model_dump(mode="json", by_alias=True)
    assert _parse(written).model_dump(mode="json", by_alias=True) == written
    plan = event.detail.rebalance_plan
    assert plan_fingerprint(_parse(raw).detail.rebalance_plan) == plan_fingerprint(plan)
    for item, sent in zip(plan.items, _items(raw), strict=True):
        assert item.trade_amount == Decimal(sent["trade_amount"])
        assert item.planned_notional <= abs(item.trade_amount)
        assert abs(item.trade_amount) - item.planned_notional < Decimal("0.01")
    assert timedelta(0) <= event.time - plan.timestamp < timedelta(seconds=5)
