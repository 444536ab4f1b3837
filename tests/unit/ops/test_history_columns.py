"""The Glue/DuckDB columns follow the ledger models: a field added, removed or retyped changes
them, and a field of a type with no column type stops the generator instead of being guessed."""

from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel

from plan_executor.domain.ledger import LedgerOrderLine
from plan_executor.domain.money import Dollars, Shares
from plan_executor.domain.results import ArrivalQuote, ExecutionResult, Quantity
from plan_executor.ops.glue_columns import (
    ORDERS_TABLE,
    RESULTS_TABLE,
    LedgerTable,
    UnmappedFieldError,
    duckdb_type,
    glue_columns,
    hive_type,
    model_columns,
    table_columns,
)


def _hive(model: type[BaseModel]) -> dict[str, str]:
    return {name: hive_type(column) for name, column in model_columns(model)}


def test_every_result_and_order_line_field_is_a_column() -> None:
    assert [c["Name"] for c in glue_columns(RESULTS_TABLE)] == list(ExecutionResult.model_fields)
    names = [c["Name"] for c in glue_columns(ORDERS_TABLE)]
    assert names[: len(LedgerOrderLine.model_fields)] == list(LedgerOrderLine.model_fields)
    assert {"reason", "requested_at", "confirmed_at"} <= set(names)  # cancellation lines
    assert len(names) == len(set(names))


def test_types_follow_the_money_types_and_nesting() -> None:
    class Line(BaseModel):
        qty: Quantity
        notional: Dollars | None
        weights: dict[str, Decimal]
        quotes: tuple[ArrivalQuote, ...]
        at: datetime
        count: int
        flag: bool

    assert _hive(Line) == {
        "qty": "decimal(28,9)",
        "notional": "decimal(28,10)",
        "weights": "map<string,decimal(38,18)>",
        "quotes": "array<struct<bid:decimal(28,10),ask:decimal(28,10),mid:decimal(28,10),"
        "time:timestamp>>",
        "at": "timestamp",
        "count": "bigint",
        "flag": "boolean",
    }
    [(_, quotes)] = [item for item in model_columns(Line) if item[0] == "quotes"]
    assert duckdb_type(quotes) == (
        'STRUCT("bid" DECIMAL(28,10), "ask" DECIMAL(28,10), "mid" DECIMAL(28,10), '
        '"time" TIMESTAMP)[]'
    )


def test_a_field_added_removed_or_retyped_changes_the_columns() -> None:
    class Before(BaseModel):
        qty: Shares
        note: str

    class Added(Before):
        extra: int

    class Retyped(BaseModel):
        qty: Dollars
        note: str

    class Removed(BaseModel):
        qty: Shares

    before = table_columns(LedgerTable("t", (Before,), "note", ""))
    for changed in (Added, Retyped, Removed):
        assert table_columns(LedgerTable("t", (changed,), "note", "")) != before


def test_a_field_with_no_column_type_is_refused() -> None:
    class Odd(BaseModel):
        ratio: float

    with pytest.raises(UnmappedFieldError, match=r"Odd\.ratio"):
        model_columns(Odd)


def test_a_field_typed_differently_by_two_line_kinds_is_refused() -> None:
    class One(BaseModel):
        size: Shares

    class Other(BaseModel):
        size: str

    with pytest.raises(UnmappedFieldError, match="two types"):
        table_columns(LedgerTable("t", (One, Other), "size", ""))


def test_a_column_both_tables_have_has_one_type() -> None:
    """Each table reads both objects (they share a folder): a key of the other object that is
    also a column here must parse as this column's type, or the other object's rows fail."""
    results = dict(table_columns(RESULTS_TABLE))
    orders = dict(table_columns(ORDERS_TABLE))
    shared = set(results) & set(orders)
    assert {"plan_id", "attempt", "status"} <= shared
    assert {name: hive_type(results[name]) for name in shared} == {
        name: hive_type(orders[name]) for name in shared
    }
    assert RESULTS_TABLE.discriminator not in orders
    assert ORDERS_TABLE.discriminator not in results
