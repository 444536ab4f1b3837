"""Validation failures as data: which field broke which rule, without echoing the input.

Every way an input can be refused (pydantic's own checks, our custom validators, the stale-plan
rule) ends as one `PlanValidationError` carrying `Violation`s. A violation names the field as a
dotted path (`detail.rebalance_plan.items[2].trade_amount`) and the rule as a short stable
identifier (`sign_agrees_with_action`), so results, logs and alarms can be keyed on them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

MAX_VIOLATIONS = 50
"""More than this many violations are counted but not kept (a 500-item garbage plan)."""

MAX_SEGMENT_CHARS = 40
"""A path segment can be a user-chosen key (unknown field, metadata key): keep it short."""

MAX_ECHO_CHARS = 32
MAX_ECHO_INT_BITS = 128
"""Python refuses to print an int of more than 4300 digits (ValueError), and a 40-digit one
is already no amount; longer ones are described, not printed."""
MAX_MESSAGE_CHARS = 200

_RULE_BY_PYDANTIC_TYPE: dict[str, str] = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_type": "string_type",
    "string_too_short": "min_length",
    "string_too_long": "max_length",
    "string_pattern_mismatch": "pattern",
    "too_short": "min_items",
    "too_long": "max_items",
    "int_type": "integer_type",
    "int_parsing": "integer_type",
    "int_from_float": "integer_type",
    "bool_type": "bool_type",
    "bool_parsing": "bool_type",
    "greater_than": "min_value",
    "greater_than_equal": "min_value",
    "less_than": "max_value",
    "less_than_equal": "max_value",
    "enum": "allowed_values",
    "literal_error": "allowed_values",
    "datetime_type": "datetime_format",
    "datetime_parsing": "datetime_format",
    "datetime_from_date_parsing": "datetime_format",
    "datetime_object_invalid": "datetime_format",
    "timezone_aware": "timezone_required",
    "dict_type": "object_type",
    "model_type": "object_type",
    "model_attributes_type": "object_type",
    "list_type": "array_type",
    "tuple_type": "array_type",
    "value_error": "invalid_value",
    "assertion_error": "invalid_value",
}

_NO_ECHO_TYPES = frozenset({"missing", "model_type", "dict_type", "list_type", "tuple_type"})


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: `field` is a dotted path, `rule` a stable identifier."""

    field: str
    rule: str
    message: str

    def describe(self) -> str:
        """One line: field, rule and the bounded human message."""
        return f"{self.field}: {self.rule} ({self.message})"


class PlanValidationError(Exception):
    """The input cannot be executed; nothing may be sent to the broker."""

    def __init__(self, violations: Sequence[Violation], *, total: int | None = None) -> None:
        if not violations:
            raise ValueError("a PlanValidationError needs at least one violation")
        self.violations: tuple[Violation, ...] = tuple(violations[:MAX_VIOLATIONS])
        self.total = max(total or 0, len(violations))
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """One human line naming the first field and rule, and how many more there are."""
        first = self.violations[0].describe()
        more = self.total - 1
        return f"{first} (+{more} more)" if more else first

    def __str__(self) -> str:
        return self.reason


def echo(value: object) -> str:
    """A short, single-line rendering of a user-supplied scalar for messages."""
    if isinstance(value, str):
        clipped = value[:MAX_ECHO_CHARS]
        text = repr(clipped)
        return text + "..." if len(value) > MAX_ECHO_CHARS else text
    if isinstance(value, int) and value.bit_length() > MAX_ECHO_INT_BITS:
        return f"<an integer of {value.bit_length()} bits>"
    text = repr(value)
    return text[:MAX_ECHO_CHARS] + "..." if len(text) > MAX_ECHO_CHARS else text


def field_path(root: str, loc: Iterable[int | str]) -> str:
    """`root` plus pydantic's location tuple as `a.b[2].c`; user-chosen keys are clipped."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            segment = _printable(part[:MAX_SEGMENT_CHARS])
            path = f"{path}.{segment}" if path else segment
    return path or "event"


def violations_from_pydantic(error: ValidationError, root: str) -> PlanValidationError:
    """Map pydantic's errors (including our custom ones) to one domain error."""
    details = error.errors(include_url=False)
    violations = [_violation(detail, root) for detail in details[:MAX_VIOLATIONS]]
    return PlanValidationError(violations, total=len(details))


def _violation(detail: ErrorDetails, root: str) -> Violation:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    path = field_path(root, detail["loc"])
    extra = ctx.get("at")
    if isinstance(extra, str) and extra:
        path = path + extra if extra.startswith("[") else f"{path}.{extra}"
    rule = _RULE_BY_PYDANTIC_TYPE.get(kind, kind)
    return Violation(field=path, rule=rule, message=_message(detail))


def _message(detail: ErrorDetails) -> str:
    message = _printable(detail["msg"])
    value = detail.get("input")
    if detail["type"] not in _NO_ECHO_TYPES and _is_scalar(value):
        message = f"{message}, got {echo(value)}"
    if len(message) > MAX_MESSAGE_CHARS:
        return message[: MAX_MESSAGE_CHARS - 3] + "..."
    return message


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Decimal)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)
