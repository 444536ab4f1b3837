"""Numbers and timestamps as they arrive on the wire, and as we write them back out.

Numbers arrive as JSON strings or numbers. Raw JSON text must be decoded with
`parse_float=Decimal` (see `events.decode_event_json`), but the Lambda runtime hands the handler
a dict made by plain `json.loads`, so a number may already be a Python float: it is converted
through its shortest repr (`0.1` -> `Decimal("0.1")`), never `Decimal(0.1)`. Booleans, NaN and
infinities are refused; digits and exponents are bounded so `"1e999999"` cannot reach arithmetic.
A positive exponent is expanded (`1E+2` -> `100`), so every stored Decimal writes out in plain
fixed-point notation and reads back with the same digits and exponent. A zero is zero whatever its
exponent: the upstream producer writes Decimal quotients as they come out of Python's arithmetic,
`0E+17` among them, which is 0, not a magnitude of 1e17.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

from pydantic import AfterValidator, BeforeValidator, Field, GetCoreSchemaHandler
from pydantic import GetJsonSchemaHandler as JsonHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,7})?")
DECIMAL_TEXT_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,7})?$"
FIXED_POINT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
MAX_NUMBER_TEXT_CHARS = 64
_ISO_DATETIME_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")
MAX_TIMESTAMP_TEXT_CHARS = 40


class DecimalLimits(NamedTuple):
    """|value| < 10**max_integer_digits, at most max_fraction_digits after the point, and at
    most max_significant_digits in all (28, Decimal's default precision, keeps abs(), negation
    and comparisons of one input exact)."""

    max_integer_digits: int
    max_fraction_digits: int
    max_significant_digits: int


INPUT_LIMITS = DecimalLimits(15, 45, 28)
"""Event input: up to $999 trillion, 28 significant digits wherever the point is (the producer's
weights are Decimal quotients with 28 significant digits; a dust position's weight needs ~40
places, hence 45)."""

RECORD_LIMITS = DecimalLimits(30, 60, 90)
"""Our own computed values (average prices from division carry 28 significant digits)."""


def to_decimal(value: object, limits: DecimalLimits = INPUT_LIMITS) -> Decimal:
    """A finite, bounded Decimal from a Decimal, int, float (by repr) or numeric string."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "expected a number, got a boolean")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = _decimal_from_text(value)
    else:
        raise PydanticCustomError("number_type", "expected a number or a numeric string")
    if not number.is_finite():
        raise PydanticCustomError("finite_number", "NaN and infinity are not amounts")
    return _expanded_within(number, limits)


def fixed_point(number: Decimal) -> str:
    """Plain notation that keeps every digit and the exponent (`0E-7` -> `0.0000000`)."""
    return format(number, "f")


def _decimal_from_text(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_TEXT_CHARS or not _DECIMAL_TEXT.fullmatch(text):
        raise PydanticCustomError("number_format", "expected a plain decimal number like 1234.56")
    return Decimal(text)


def _expanded_within(number: Decimal, limits: DecimalLimits) -> Decimal:
    """`number` if within `limits`, a positive exponent expanded (`1E+2` -> `100`). One
    `as_tuple()` serves every check: it runs for each Decimal of every record we build."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    if not number:
        # `0E+17` and `0E-60` are zero: keep the zero's places only while they are in bounds.
        return number if -limits.max_fraction_digits <= exponent <= 0 else Decimal(0)
    if number.adjusted() >= limits.max_integer_digits:
        raise PydanticCustomError(
            "number_bounds", "magnitude must stay below 1e{digits}", {"digits": limits[0]}
        )
    if exponent < -limits.max_fraction_digits:
        raise PydanticCustomError(
            "number_bounds", "at most {places} decimal places", {"places": limits[1]}
        )
    if len(digits) > limits.max_significant_digits:
        raise PydanticCustomError(
            "number_bounds", "at most {digits} significant digits", {"digits": limits[2]}
        )
    if exponent > 0:
        return Decimal((sign, digits + (0,) * exponent, 0))
    return number


@dataclass(frozen=True, slots=True)
class DecimalField:
    """Annotated marker: a wire Decimal with optional bounds and a JSON-safe serialisation."""

    ge: Decimal | None = None
    le: Decimal | None = None
    gt: Decimal | None = None
    limits: DecimalLimits = INPUT_LIMITS

    def validate(self, value: object) -> Decimal:
        number = to_decimal(value, self.limits)
        if self.ge is not None and number < self.ge:
            raise PydanticCustomError("min_value", "must be >= {limit}", {"limit": str(self.ge)})
        if self.gt is not None and number <= self.gt:
            raise PydanticCustomError("min_value", "must be > {limit}", {"limit": str(self.gt)})
        if self.le is not None and number > self.le:
            raise PydanticCustomError("max_value", "must be <= {limit}", {"limit": str(self.le)})
        return number

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        serializer = core_schema.plain_serializer_function_ser_schema(
            fixed_point, when_used="json", return_schema=core_schema.str_schema()
        )
        return core_schema.no_info_plain_validator_function(self.validate, serialization=serializer)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: JsonHandler
    ) -> JsonSchemaValue:
        if handler.mode == "serialization":
            return {"type": "string", "pattern": FIXED_POINT_PATTERN}
        number: dict[str, object] = {"type": "number"}
        if self.ge is not None:
            number["minimum"] = _json_number(self.ge)
        if self.gt is not None:
            number["exclusiveMinimum"] = _json_number(self.gt)
        if self.le is not None:
            number["maximum"] = _json_number(self.le)
        return {"anyOf": [number, {"type": "string", "pattern": DECIMAL_TEXT_PATTERN}]}


def _json_number(limit: Decimal) -> int | float:
    """For the schema document only: integral limits as ints, others as floats."""
    return int(limit) if limit == limit.to_integral_value() else float(limit)


def _timestamp_input(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_format", "expected an ISO-8601 timestamp string")
    if len(value) > MAX_TIMESTAMP_TEXT_CHARS or not _ISO_DATETIME_START.match(value):
        raise PydanticCustomError("datetime_format", "expected an ISO-8601 timestamp")
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "timezone_required", "timestamp needs a UTC offset such as Z or +00:00"
        )
    return value.astimezone(UTC)


UtcTimestamp = Annotated[datetime, BeforeValidator(_timestamp_input), AfterValidator(_as_utc)]
"""An ISO-8601 timestamp with an offset (naive is refused), normalised to UTC."""


def _json_integer(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("integer_type", "expected an integer, got a boolean")
    if isinstance(value, str):
        raise PydanticCustomError("integer_type", "expected a JSON integer, got a string")
    return value


JSON_INTEGER = BeforeValidator(_json_integer)
"""For int fields, what JSON Schema's `integer` means: JSON `true` and the string `"1"` are not 1
(pydantic's lax mode would take both); `2.0` is 2, `2.5` is refused."""

NonNegativeInt = Annotated[int, Field(ge=0), JSON_INTEGER]
