"""HTTP-side parsing and JSON responses shared by the sim's route modules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

_TRUE = "true"
_FALSE = "false"


class HttpError(Exception):
    """An error the HTTP layer itself answers (bad query, bad JSON, non-UUID path id)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, object]:
        if self.code is None:
            return {"message": self.message}
        return {"code": self.code, "message": self.message}


def bad_request(message: str) -> HttpError:
    return HttpError(422, 40010001, message)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: object) -> str:
    return json.dumps(data, default=_default, separators=(",", ":"))


def json_response(data: object, status: int = 200) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type="application/json")


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    """Query booleans: alpaca-py renders Python's True/False, so case does not matter."""
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered == _TRUE:
        return True
    if lowered == _FALSE:
        return False
    raise bad_request(f"invalid {name}: {raw}")


def parse_int(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"invalid {name}: {raw}") from None


def parse_symbols(raw: str | None) -> list[str] | None:
    if raw is None or raw.strip() == "":
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def optional(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    return value if value else None


def require_order_id(raw: str) -> str:
    """Alpaca answers a malformed order id with 422 40010001 before looking anything up."""
    try:
        uuid.UUID(raw)
    except ValueError:
        raise HttpError(422, 40010001, "order_id is missing") from None
    return raw


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Decode a JSON object body; floats become Decimal so no money passes through float."""
    text = await request.text()
    if text.strip() == "":
        return {}
    try:
        decoded = json.loads(text, parse_float=Decimal)
    except ValueError:
        raise HttpError(400, 40010000, "request body format is invalid") from None
    if not isinstance(decoded, dict):
        raise HttpError(400, 40010000, "request body format is invalid")
    return decoded
