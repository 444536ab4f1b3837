"""Identifier, symbol and version string types for the contracts.

Ids end up in logs, client order ids and S3 keys, so their alphabet is small and fixed. A plan
id is additionally refused when it could read as a path step (`..`, a leading `.` or `-`).
"""

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

ID_CHARS = r"[A-Za-z0-9._:-]"
MAX_TRACE_ID_CHARS = 128
MAX_PLAN_ID_CHARS = 64
MAX_SYMBOL_CHARS = 10
SUPPORTED_SCHEMA_MAJOR = 1

_PLAN_ID = re.compile(rf"{ID_CHARS}{{1,{MAX_PLAN_ID_CHARS}}}")
PLAN_ID_JSON_PATTERN = rf"^(?![.-])(?!.*\.\.){ID_CHARS}{{1,{MAX_PLAN_ID_CHARS}}}$"
_TRACE_ID = re.compile(rf"{ID_CHARS}{{1,{MAX_TRACE_ID_CHARS}}}")
SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]*([./][A-Z0-9]+)?$"
SCHEMA_VERSION_PATTERN = r"^[0-9]{1,4}\.[0-9]{1,4}(\.[0-9]{1,4})?$"


def is_safe_plan_id(value: object) -> bool:
    """True when `value` may be used as a plan id in order ids and S3 keys."""
    return (
        isinstance(value, str)
        and _PLAN_ID.fullmatch(value) is not None
        and ".." not in value
        and not value.startswith((".", "-"))
    )


def is_trace_id(value: object) -> bool:
    """True when `value` is a well-formed event, correlation or causation id."""
    return isinstance(value, str) and _TRACE_ID.fullmatch(value) is not None


def _path_safe(value: str) -> str:
    if ".." in value or value.startswith((".", "-")):
        raise PydanticCustomError(
            "path_safe", "must not contain '..' or start with '.' or '-' (it becomes an S3 key)"
        )
    return value


def _major_is_supported(value: str) -> str:
    major = int(value.split(".", 1)[0])
    if major != SUPPORTED_SCHEMA_MAJOR:
        raise PydanticCustomError(
            "schema_major_1",
            "only schema major version {supported} is accepted",
            {"supported": SUPPORTED_SCHEMA_MAJOR},
        )
    return value


def _upper_case(value: object) -> object:
    # ASCII only: str.upper() maps some other letters onto ASCII ones ('\u017fpy' -> 'SPY').
    return value.upper() if isinstance(value, str) and value.isascii() else value


TraceId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TRACE_ID_CHARS, pattern=f"^{ID_CHARS}+$"),
]
"""An event, correlation or causation id: 1-128 of [A-Za-z0-9._:-]."""

PlanId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_PLAN_ID_CHARS, pattern=f"^{ID_CHARS}+$"),
    AfterValidator(_path_safe),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_PLAN_ID_CHARS,
            "pattern": PLAN_ID_JSON_PATTERN,
        }
    ),
]
"""1-64 of [A-Za-z0-9._:-], no '..', no leading '.' or '-'."""

StrategyId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
"""A strategy name: 1-64 of [A-Za-z0-9_.:-]."""

Symbol = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_SYMBOL_CHARS, pattern=SYMBOL_PATTERN),
    BeforeValidator(_upper_case),
]
"""A US equity ticker, upper-cased: AAPL, BRK.B, BRK/B (1-10 characters)."""

SchemaVersion = Annotated[
    str,
    StringConstraints(max_length=14, pattern=SCHEMA_VERSION_PATTERN),
    AfterValidator(_major_is_supported),
    WithJsonSchema({"type": "string", "pattern": r"^1\.[0-9]{1,4}(\.[0-9]{1,4})?$"}),
]
"""MAJOR.MINOR[.PATCH]; only major 1 is accepted."""

Label = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[ -~]+$")]
"""A short printable-ASCII name carried through (source module, component)."""
