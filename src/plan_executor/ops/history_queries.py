"""The named history queries: one `.sql` file each in `ops/queries/`, written once in SQL that
Athena (Trino) and DuckDB both run. template.yaml's `AWS::Athena::NamedQuery` resources carry
the same text (`make glue` writes them; a test compares).

A file starts with `--` comment lines (the query's description) and may end with `LIMIT <n>`,
the only part `plan-executor history --limit` changes.
"""

import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

QUERY_PACKAGE: Final = "plan_executor.ops.queries"
_TRAILING_LIMIT = re.compile(r"\bLIMIT\s+[0-9]+\s*$")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class UnknownQueryError(LookupError):
    """No named query has that name."""


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    sql: str

    @property
    def description(self) -> str:
        """The leading comment lines, joined into one sentence."""
        lines = []
        for line in self.sql.splitlines():
            if not line.startswith("--"):
                break
            lines.append(line.removeprefix("--").strip())
        return " ".join(lines)

    @property
    def has_limit(self) -> bool:
        return _TRAILING_LIMIT.search(self.sql) is not None

    def limited(self, limit: int | None) -> str:
        """The SQL with its trailing `LIMIT` set to `limit` (None: as written)."""
        if limit is None or not self.has_limit:
            return self.sql
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return _TRAILING_LIMIT.sub(f"LIMIT {limit}\n", self.sql)


def named_queries() -> tuple[NamedQuery, ...]:
    """Every named query, by name."""
    files = resources.files(QUERY_PACKAGE)
    queries = []
    for entry in sorted(files.iterdir(), key=lambda item: item.name):
        name, dot, suffix = entry.name.partition(".")
        if dot and suffix == "sql":
            if not _NAME.fullmatch(name):
                raise ValueError(f"query file name {entry.name!r} is not snake_case")
            queries.append(NamedQuery(name, entry.read_text(encoding="utf-8")))
    return tuple(queries)


def named_query(name: str) -> NamedQuery:
    for query in named_queries():
        if query.name == name:
            return query
    known = ", ".join(query.name for query in named_queries())
    raise UnknownQueryError(f"no named query {name!r} (there are: {known})")
