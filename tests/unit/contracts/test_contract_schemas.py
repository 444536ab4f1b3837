"""The committed JSON Schemas match the models, and the saved events satisfy them."""

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from plan_executor.domain.enums import Action, ItemStatus
from plan_executor.domain.events import decode_event_object, parse_rebalance_event
from plan_executor.domain.money import Dollars, Price, Shares
from plan_executor.domain.results import OrderResult
from plan_executor.domain.schemas import SCHEMA_FILES, render_schemas


def test_committed_schemas_are_current(schemas_dir: Path) -> None:
    rendered = render_schemas()
    committed = {path.name: path.read_text(encoding="utf-8") for path in schemas_dir.glob("*.json")}
    stale = sorted(name for name in rendered if committed.get(name) != rendered[name])
    assert not stale, f"stale JSON Schemas {stale}: run `make schemas`"
    assert set(committed) == set(rendered), "schemas/ holds files no model generates"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    document = json.loads(render_schemas()[name])
    jsonschema.Draft202012Validator.check_schema(document)


def test_accepted_saved_events_satisfy_the_input_schema(events_dir: Path) -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads(render_schemas()["rebalance-planned.schema.json"])
    )
    for name in ("mixed-sell-and-buy.json", "full-liquidation.json", "buys-only.json"):
        raw = json.loads((events_dir / name).read_text())
        parse_rebalance_event(decode_event_object((events_dir / name).read_bytes()))
        assert list(validator.iter_errors(raw)) == [], name


@pytest.mark.parametrize(
    ("name", "keyword"),
    [
        ("rejected-missing-plan-id.json", "required"),
        ("rejected-schema-v2.json", "pattern"),
    ],
)
def test_schema_refuses_what_the_model_refuses(events_dir: Path, name: str, keyword: str) -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads(render_schemas()["rebalance-planned.schema.json"])
    )
    raw = json.loads((events_dir / name).read_text())
    assert keyword in {error.validator for error in validator.iter_errors(raw)}


def test_output_schema_describes_decimals_as_strings() -> None:
    result = json.loads(render_schemas()["execution-result.schema.json"])
    summary = result["$defs"]["ExecutionSummary"]["properties"]["planned_buy_notional"]
    assert summary["type"] == "string"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_every_field_is_documented(name: str) -> None:
    document = json.loads(render_schemas()[name])
    objects = [document, *document.get("$defs", {}).values()]
    undocumented = [
        f"{obj.get('title')}.{field}"
        for obj in objects
        for field, spec in obj.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undocumented == []


def test_a_results_rounded_money_satisfies_the_output_schema() -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads(render_schemas()["execution-result.schema.json"])
    )
    order = _rounded_order("PNNY", "2241.1690445658400016746", "0.4523187416036283783783783784")
    payload = order.model_dump(mode="json")
    assert (payload["filled_notional"], payload["avg_fill_price"]) == ("2241.17", "0.4523")
    order_schema = validator.schema["$defs"]["OrderResult"]
    order_validator = jsonschema.Draft202012Validator(
        {**order_schema, "$defs": validator.schema["$defs"]}
    )
    assert list(order_validator.iter_errors(payload)) == []
    unrounded = {**payload, "filled_notional": "2241.1690445658400016746"}
    assert "pattern" in {error.validator for error in order_validator.iter_errors(unrounded)}


def _rounded_order(symbol: str, notional: str, avg: str) -> OrderResult:
    return OrderResult(
        symbol=symbol,
        action=Action.BUY,
        planned_notional=Dollars(Decimal("2250.00")),
        filled_qty=Shares(Decimal("4954.8")),
        avg_fill_price=Price(Decimal(avg)),
        filled_notional=Dollars(Decimal(notional)),
        status=ItemStatus.FILLED,
        arrival_quote=None,
        slippage_bps=None,
        repegs=0,
        market_fallback=False,
        reason=None,
        strategy_id=None,
        child_orders=(),
    )
