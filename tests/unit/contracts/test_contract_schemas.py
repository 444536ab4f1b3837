"""The committed JSON Schemas match the models, and the saved events satisfy them."""

import json
from pathlib import Path

import jsonschema
import pytest

from plan_executor.domain.events import decode_event_object, parse_rebalance_event
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
