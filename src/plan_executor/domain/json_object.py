"""Free-form `metadata` objects: carried through untouched in meaning, bounded in size.

Numbers inside become Decimal like every other number (floats through their shortest repr), so
nothing downstream ever sees a float; they are written back as fixed-point strings. Size is
bounded (nodes, depth, string and key lengths) so a producer cannot make us carry megabytes.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic import GetJsonSchemaHandler as JsonHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from plan_executor.domain.wire_values import RECORD_LIMITS, fixed_point, to_decimal

MAX_NODES = 10_000
"""Sized from the producer's largest metadata: alchemiser's plan metadata carries
`strategy_attribution`, one weight per (symbol, strategy) plus one object per symbol, so a plan of
MAX_PLAN_ITEMS (500) symbols across 16 strategies needs 500 x 17 = 8,500 values plus a few
fields. EventBridge's 256 KB event limit bounds it further in practice."""
MAX_DEPTH = 6
MAX_STRING_CHARS = 1024
MAX_KEY_CHARS = 128


def _bounds_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("metadata_bounds", message)


@dataclass(slots=True)
class _Walk:
    nodes: int = 0

    def value(self, value: object, depth: int) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _bounds_error(f"at most {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise _bounds_error(f"at most {MAX_DEPTH} levels of nesting")
        if isinstance(value, dict):
            return self.mapping(value, depth)
        if isinstance(value, list | tuple):
            return [self.value(item, depth + 1) for item in value]
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                raise _bounds_error(f"strings of at most {MAX_STRING_CHARS} characters")
            return _unicode(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float | Decimal):
            return to_decimal(value, RECORD_LIMITS)
        raise PydanticCustomError("json_value", "only JSON values are allowed")

    def mapping(self, value: dict[Any, Any], depth: int) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > MAX_KEY_CHARS:
                raise _bounds_error(f"keys must be strings of at most {MAX_KEY_CHARS} characters")
            out[_unicode(key)] = self.value(item, depth + 1)
        return out


def _unicode(text: str) -> str:
    """JSON's `\\ud800` escape decodes to a lone surrogate, which no UTF-8 writer accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "string_unicode", "strings must be valid Unicode (a lone surrogate is not)"
        ) from None
    return text


def validate_json_object(value: object) -> dict[str, object]:
    """A bounded copy of a JSON object, numbers as Decimal."""
    if not isinstance(value, dict):
        raise PydanticCustomError("object_type", "expected a JSON object")
    return _Walk().mapping(value, 0)


def to_json_compatible(value: object) -> object:
    """The same structure with every Decimal written as a fixed-point string."""
    if isinstance(value, dict):
        return {key: to_json_compatible(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_compatible(item) for item in value]
    if isinstance(value, Decimal):
        return fixed_point(value)
    return value


@dataclass(frozen=True, slots=True)
class _JsonObjectField:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        serializer = core_schema.plain_serializer_function_ser_schema(
            to_json_compatible, when_used="json"
        )
        return core_schema.no_info_plain_validator_function(
            validate_json_object, serialization=serializer
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: JsonHandler
    ) -> JsonSchemaValue:
        return {"type": "object", "maxProperties": MAX_NODES}


JsonObject = Annotated[dict[str, Any], _JsonObjectField()]
"""A bounded JSON object carried through (numbers as Decimal)."""
