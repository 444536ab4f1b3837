"""The history tables on this machine: the ledger objects copied from S3 (moto or AWS) into a
directory with their keys kept, and DuckDB views named and typed as the Glue tables.

Like Athena, each table reads every object under `executions/` (see `LedgerTable`), and its
`day` partition column comes from the key's `date=` segment. DuckDB reads the copies, not S3:
its S3 extension would be a download this command must not need.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from plan_executor.domain.ledger_keys import ORDERS_OBJECT, RESULT_OBJECT
from plan_executor.ops.glue_columns import (
    LEDGER_DAY_SEGMENT,
    LEDGER_PREFIX,
    PARTITION_KEY,
    TABLES,
    LedgerTable,
    duckdb_type,
    table_columns,
)
from plan_executor.ops.history_queries import NamedQuery

if TYPE_CHECKING:
    import duckdb

LEDGER_OBJECTS: Final = (RESULT_OBJECT, ORDERS_OBJECT)
_DAY_IN_PATH: Final = rf"/{LEDGER_DAY_SEGMENT}=([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})/"
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:=/-]+")


class LedgerCopyError(Exception):
    """A ledger key cannot be copied safely (it would leave the directory)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A query's result: column names and rows, as DuckDB typed them."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def copy_ledger(s3: Any, bucket: str, into: Path) -> int:
    """Copy every ledger object of `bucket` into `into`, same keys; returns how many."""
    copied = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=LEDGER_PREFIX):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            if key.rsplit("/", 1)[-1] in LEDGER_OBJECTS:
                target = _inside(into, key)
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, key, str(target))
                copied += 1
    return copied


def _inside(root: Path, key: str) -> Path:
    if not _SAFE_KEY.fullmatch(key) or ".." in key.split("/"):
        raise LedgerCopyError(f"ledger key {key!r} is not a plain path")
    return root / key


@contextmanager
def history_database(ledger_copy: Path) -> Iterator["duckdb.DuckDBPyConnection"]:
    """An in-memory DuckDB with one view per history table over the copied ledger."""
    import duckdb  # noqa: PLC0415 (dev-only engine, loaded when a history command runs)

    connection = duckdb.connect(":memory:")
    try:
        for table in TABLES:
            connection.execute(_view_sql(table, ledger_copy))
        yield connection
    finally:
        connection.close()


def _view_sql(table: LedgerTable, ledger_copy: Path) -> str:
    columns = ", ".join(
        f"'{name}': '{duckdb_type(column)}'" for name, column in table_columns(table)
    )
    pattern = _sql_text(str(ledger_copy / LEDGER_PREFIX / "**" / "*"))
    # Built from our own table names and column types and a quoted temp path: no outside text.
    return (
        f"CREATE VIEW {table.name} AS SELECT * EXCLUDE (filename), "  # noqa: S608
        f"CAST(regexp_extract(filename, '{_DAY_IN_PATH}', 1) AS DATE) AS {PARTITION_KEY} "
        f"FROM read_json({pattern}, format = 'newline_delimited', filename = true, "
        f"hive_partitioning = false, columns = {{{columns}}})"
    )


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run_query(
    connection: "duckdb.DuckDBPyConnection", query: NamedQuery, limit: int | None = None
) -> Answer:
    cursor = connection.execute(query.limited(limit))
    columns = tuple(column[0] for column in cursor.description or ())
    return Answer(columns, tuple(tuple(row) for row in cursor.fetchall()))
