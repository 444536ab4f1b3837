"""JSON Schema documents generated from the contract models (the files in `schemas/`).

The input schema is in validation mode (what producers may send: numbers or numeric strings);
output schemas are in serialization mode (what we write: Decimals as fixed-point strings).
"""

import json
from typing import Literal

from pydantic import BaseModel

from plan_executor.domain.events import RebalancePlannedEvent
from plan_executor.domain.ledger import LedgerCancellationLine, LedgerOrderLine
from plan_executor.domain.results import ExecutionResult

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "urn:plan-executor:schema:"

SchemaMode = Literal["validation", "serialization"]

SCHEMA_FILES: dict[str, tuple[type[BaseModel], SchemaMode]] = {
    "rebalance-planned.schema.json": (RebalancePlannedEvent, "validation"),
    "execution-result.schema.json": (ExecutionResult, "serialization"),
    "ledger-order-line.schema.json": (LedgerOrderLine, "serialization"),
    "ledger-cancellation-line.schema.json": (LedgerCancellationLine, "serialization"),
}


def schema_document(model: type[BaseModel], mode: SchemaMode, file_name: str) -> dict[str, object]:
    """The JSON Schema of `model`, with dialect and id."""
    body = model.model_json_schema(mode=mode, by_alias=True)
    stem = file_name.removesuffix(".schema.json")
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": SCHEMA_ID_BASE + stem, **body}


def render_schemas() -> dict[str, str]:
    """File name -> file text (stable: sorted keys, two-space indent, trailing newline)."""
    return {
        name: json.dumps(schema_document(model, mode, name), indent=2, sort_keys=True) + "\n"
        for name, (model, mode) in SCHEMA_FILES.items()
    }
