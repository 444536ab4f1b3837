"""The history tables' columns, derived from the ledger models: one type tree rendered as Glue
(Hive) types for template.yaml and as DuckDB types for `plan-executor history`.

A field of a type this module does not know raises `UnmappedFieldError`: a column is never
guessed. Decimal precision is chosen so the cost queries' products stay within 38 digits in
Athena (a product's scale is the sum of its factors' scales).
"""

import types
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from plan_executor.domain.ledger import LedgerCancellationLine, LedgerOrderLine
from plan_executor.domain.ledger_keys import LEDGER_ROOT, ORDERS_OBJECT, RESULT_OBJECT
from plan_executor.domain.money import Bps, Dollars, Price, Shares
from plan_executor.domain.results import ExecutionResult


@dataclass(frozen=True, slots=True)
class Scalar:
    hive: str
    duckdb: str


@dataclass(frozen=True, slots=True)
class ArrayOf:
    element: "ColumnType"


@dataclass(frozen=True, slots=True)
class MapOf:
    """A JSON object keyed by strings (symbols)."""

    value: "ColumnType"


@dataclass(frozen=True, slots=True)
class StructOf:
    fields: tuple[tuple[str, "ColumnType"], ...]


ColumnType = Scalar | ArrayOf | MapOf | StructOf
Columns = tuple[tuple[str, ColumnType], ...]

STRING: Final = Scalar("string", "VARCHAR")
BIGINT: Final = Scalar("bigint", "BIGINT")
BOOLEAN: Final = Scalar("boolean", "BOOLEAN")
TIMESTAMP: Final = Scalar("timestamp", "TIMESTAMP")
DATE: Final = Scalar("date", "DATE")
SHARES: Final = Scalar("decimal(28,9)", "DECIMAL(28,9)")
MONEY: Final = Scalar("decimal(28,10)", "DECIMAL(28,10)")
"""Dollars, prices and basis points: 18 integer digits, 10 decimals."""
PLAIN_DECIMAL: Final = Scalar("decimal(38,18)", "DECIMAL(38,18)")
"""A producer's value recorded as received (weights, allocation values); never multiplied."""

_DECIMAL_KINDS: Final[dict[object, Scalar]] = {
    Shares: SHARES,
    Dollars: MONEY,
    Price: MONEY,
    Bps: MONEY,
    Decimal: PLAIN_DECIMAL,
}
_SCALARS: Final[dict[object, Scalar]] = {
    str: STRING,
    int: BIGINT,
    bool: BOOLEAN,
    datetime: TIMESTAMP,
}

PARTITION_KEY: Final = "day"
"""The partition column: the attempt's UTC start date, from the key segment below."""
LEDGER_DAY_SEGMENT: Final = "date"
"""The ledger's Hive key for that date (`executions/date=YYYY-MM-DD/...`, ledger_keys.py)."""


class UnmappedFieldError(TypeError):
    """A ledger model field has a type with no column type: map it here first."""


@dataclass(frozen=True, slots=True)
class LedgerTable:
    """One Glue table over the ledger. Both tables read every object under `executions/`
    (Athena reads all files under a location); `discriminator` is a column only this table's
    objects have, so a row from the other object has it null."""

    name: str
    models: tuple[type[BaseModel], ...]
    discriminator: str
    description: str


RESULTS_TABLE: Final = LedgerTable(
    name="results",
    models=(ExecutionResult,),
    discriminator="event_id",
    description=f"One row per {RESULT_OBJECT} (an execution attempt); rows of "
    f"{ORDERS_OBJECT} have event_id null.",
)
ORDERS_TABLE: Final = LedgerTable(
    name="orders",
    models=(LedgerOrderLine, LedgerCancellationLine),
    discriminator="kind",
    description=f"One row per {ORDERS_OBJECT} line (a child order or a cancellation); rows "
    f"of {RESULT_OBJECT} have kind null.",
)
TABLES: Final = (RESULTS_TABLE, ORDERS_TABLE)
LEDGER_PREFIX: Final = f"{LEDGER_ROOT}/"


def table_columns(table: LedgerTable) -> Columns:
    """The table's data columns: the union of its models' fields, in model order."""
    merged: dict[str, ColumnType] = {}
    for model in table.models:
        for name, column_type in model_columns(model):
            if merged.setdefault(name, column_type) != column_type:
                raise UnmappedFieldError(f"{table.name}.{name} has two types across models")
    return tuple(merged.items())


def model_columns(model: type[BaseModel]) -> Columns:
    """One column per field of `model`, named as the field is written in JSON."""
    return tuple(
        (
            field.serialization_alias or name,
            column_type(field.annotation, f"{model.__name__}.{name}"),
        )
        for name, field in model.model_fields.items()
    )


def column_type(annotation: Any, where: str) -> ColumnType:
    """The column type of one annotation (Optional, Annotated and NewType unwrapped)."""
    annotation = _unwrapped(annotation, where)
    origin = get_origin(annotation)
    if origin in (tuple, list):
        return ArrayOf(column_type(_element(annotation, where), f"{where}[]"))
    if origin is dict:
        key, value = get_args(annotation)
        if _unwrapped(key, where) is not str:
            raise UnmappedFieldError(f"{where}: only string-keyed maps have a column type")
        return MapOf(column_type(value, f"{where}{{}}"))
    if origin is Literal or (isinstance(annotation, type) and issubclass(annotation, StrEnum)):
        return STRING
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return StructOf(model_columns(annotation))
    return _scalar(annotation, where)


def _unwrapped(annotation: Any, where: str) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            present = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(present) != 1:
                raise UnmappedFieldError(f"{where}: a union of {present} has no column type")
            annotation = present[0]
        elif annotation in _DECIMAL_KINDS or not hasattr(annotation, "__supertype__"):
            return annotation
        else:
            annotation = annotation.__supertype__


def _element(annotation: Any, where: str) -> Any:
    args = get_args(annotation)
    if get_origin(annotation) is tuple and (len(args) != 2 or args[1] is not Ellipsis):
        raise UnmappedFieldError(f"{where}: only tuple[X, ...] has a column type")
    return args[0]


def _scalar(annotation: Any, where: str) -> Scalar:
    for known in (_DECIMAL_KINDS, _SCALARS):
        if annotation in known:
            return known[annotation]
    raise UnmappedFieldError(f"{where}: {annotation!r} has no column type")


def hive_type(column: ColumnType) -> str:
    """As Glue and Athena write it: `array<struct<qty:decimal(28,9)>>`."""
    match column:
        case Scalar():
            return column.hive
        case ArrayOf():
            return f"array<{hive_type(column.element)}>"
        case MapOf():
            return f"map<string,{hive_type(column.value)}>"
        case StructOf():
            return "struct<" + ",".join(f"{n}:{hive_type(t)}" for n, t in column.fields) + ">"


def duckdb_type(column: ColumnType) -> str:
    """As DuckDB's `read_json(columns=...)` takes it (struct fields quoted: `time` is a
    keyword there)."""
    match column:
        case Scalar():
            return column.duckdb
        case ArrayOf():
            return f"{duckdb_type(column.element)}[]"
        case MapOf():
            return f"MAP(VARCHAR, {duckdb_type(column.value)})"
        case StructOf():
            inner = ", ".join(f'"{n}" {duckdb_type(t)}' for n, t in column.fields)
            return f"STRUCT({inner})"


def glue_columns(table: LedgerTable) -> list[dict[str, str]]:
    """The table's `StorageDescriptor.Columns` in template.yaml."""
    return [{"Name": name, "Type": hive_type(column)} for name, column in table_columns(table)]
