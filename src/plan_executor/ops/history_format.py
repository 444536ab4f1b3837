"""Human-readable text for `plan-executor history`: one aligned table per named query."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from plan_executor.cli_format import INDENT, money, table
from plan_executor.local.replay_format import section
from plan_executor.ops.history_local import Answer
from plan_executor.ops.history_queries import NamedQuery


def query_list_lines(queries: Sequence[NamedQuery]) -> list[str]:
    width = max(len(query.name) for query in queries)
    return [f"{INDENT}{query.name.ljust(width)}  {query.description}" for query in queries]


def answer_lines(query: NamedQuery, answer: Answer) -> list[str]:
    lines = [*section(query.name), f"{INDENT}{query.description}"]
    if not answer.rows:
        return [*lines, f"{INDENT}(no rows)"]
    cells = [[cell_text(value) for value in row] for row in answer.rows]
    numeric = {
        index
        for index in range(len(answer.columns))
        if any(_is_number(row[index]) for row in answer.rows)
    }
    return [*lines, *table(answer.columns, cells, numeric)]


def cell_text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return money(value.normalize())
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)
