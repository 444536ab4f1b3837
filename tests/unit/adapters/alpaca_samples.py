"""Alpaca wire payloads shared by the adapter unit tests."""

import json

import requests
from alpaca.common.exceptions import APIError


def api_error(status: int, body: object) -> APIError:
    """What alpaca-py raises: APIError(response.text, HTTPError(response=...)); a str body is
    the response text as is."""
    text = body if isinstance(body, str) else json.dumps(body)
    response = requests.Response()
    response.status_code = status
    response._content = text.encode()
    return APIError(text, requests.HTTPError(response=response))


def wire_order(**overrides: object) -> dict[str, object]:
    """An Alpaca order as alpaca-py returns it with raw_data=True (strings for numbers)."""
    order: dict[str, object] = {
        "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
        "client_order_id": "abc-AAPL-b-1",
        "created_at": "2026-11-24T14:45:00.000000Z",
        "updated_at": "2026-11-24T14:45:01.000000Z",
        "submitted_at": "2026-11-24T14:45:00.000000Z",
        "symbol": "AAPL",
        "qty": "3",
        "notional": None,
        "filled_qty": "0",
        "filled_avg_price": None,
        "type": "limit",
        "side": "buy",
        "limit_price": "271.45",
        "status": "new",
    }
    order.update(overrides)
    return order


def trade_update(event: str, order: dict[str, object], **extra: object) -> dict[str, object]:
    """The `data` of a trade_updates message."""
    return {"event": event, "order": order, "timestamp": "2026-11-24T14:45:02.5Z", **extra}
