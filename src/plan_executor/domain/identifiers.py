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
"""A plan id of our own form: 1-64 id characters."""
PRODUCER_PLAN_ID_PREFIX = "portfolio_v2_"
MAX_EPOCH_DIGITS = 18
MAX_PRODUCER_PLAN_ID_CHARS = (
    len(PRODUCER_PLAN_ID_PREFIX) + MAX_TRACE_ID_CHARS + 1 + MAX_EPOCH_DIGITS
)
"""alchemiser's plan ids are `portfolio_v2_<correlation id>_<epoch seconds>` (69 characters for its
`workflow-<uuid4>` correlation ids); the correlation id is a trace id of up to 128, so this form
may run to 160. Ids derived from any plan id stay short: client order ids carry a hash of the plan
(order_ids.py), and S3 keys stay far below S3's 1024 bytes."""
MAX_SYMBOL_CHARS = 10
SUPPORTED_SCHEMA_MAJOR = 1

_PLAN_ID = re.compile(rf"{ID_CHARS}{{1,{MAX_PLAN_ID_CHARS}}}")
_PRODUCER_PLAN_ID = re.compile(
    rf"{PRODUCER_PLAN_ID_PREFIX}{ID_CHARS}{{1,{MAX_TRACE_ID_CHARS}}}_[0-9]{{1,{MAX_EPOCH_DIGITS}}}"
)
PLAN_ID_JSON_PATTERN = (
    rf"^(?![.-])(?!.*\.\.)({ID_CHARS}{{1,{MAX_PLAN_ID_CHARS}}}|{_PRODUCER_PLAN_ID.pattern})$"
)
_TRACE_ID = re.compile(rf"{ID_CHARS}{{1,{MAX_TRACE_ID_CHARS}}}")
SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]*([./][A-Z0-9]+)?$"
SYMBOL_INPUT_PATTERN = r"^[A-Za-z][A-Za-z0-9]*([./][A-Za-z0-9]+)?$"
"""What a producer may send (the parser upper-cases ASCII letters first)."""
SCHEMA_VERSION_PATTERN = r"^(0|[1-9][0-9]{0,3})\.[0-9]{1,4}(\.[0-9]{1,4})?$"
"""MAJOR without leading zeros (`01.0` is not version 1: the published schema says `^1\\.`)."""


def is_safe_plan_id(value: object) -> bool:
    """True when `value` may be used as a plan id in order ids and S3 keys."""
    return (
        isinstance(value, str)
        and _has_plan_id_form(value)
        and ".." not in value
        and not value.startswith((".", "-"))
    )


def is_producer_plan_id(value: str) -> bool:
    """alchemiser's `portfolio_v2_<correlation id>_<epoch seconds>`: a plan id that changes when
    the same workflow is planned again."""
    return _PRODUCER_PLAN_ID.fullmatch(value) is not None


def _has_plan_id_form(value: str) -> bool:
    return _PLAN_ID.fullmatch(value) is not None or _PRODUCER_PLAN_ID.fullmatch(value) is not None


def is_trace_id(value: object) -> bool:
    """True when `value` is a well-formed event, correlation or causation id."""
    return isinstance(value, str) and _TRACE_ID.fullmatch(value) is not None


def _plan_id_form(value: str) -> str:
    if not _has_plan_id_form(value):
        raise PydanticCustomError(
            "max_length",
            "at most {ours} characters, or {producers} in the form "
            "portfolio_v2_<correlation id>_<epoch seconds>",
            {"ours": MAX_PLAN_ID_CHARS, "producers": MAX_PRODUCER_PLAN_ID_CHARS},
        )
    return value


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
    StringConstraints(
        min_length=1, max_length=MAX_PRODUCER_PLAN_ID_CHARS, pattern=f"^{ID_CHARS}+$"
    ),
    AfterValidator(_plan_id_form),
    AfterValidator(_path_safe),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_PRODUCER_PLAN_ID_CHARS,
            "pattern": PLAN_ID_JSON_PATTERN,
        }
    ),
]
"""1-64 of [A-Za-z0-9._:-], or alchemiser's `portfolio_v2_<trace id>_<digits>` (up to 160); no
'..', no leading '.' or '-'."""

StrategyId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
"""A strategy name: 1-64 of [A-Za-z0-9_.:-]."""

Symbol = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_SYMBOL_CHARS, pattern=SYMBOL_PATTERN),
    BeforeValidator(_upper_case),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_SYMBOL_CHARS,
            "pattern": SYMBOL_INPUT_PATTERN,
            "description": "Upper-cased on input: `aapl` is AAPL.",
        }
    ),
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
