"""alpaca-py and `requests` failures -> our broker errors.

Never trusts an error body: `APIError.code`/`.message` parse the body on every access and raise
on a non-JSON body or one without a `code`, so the raw text is parsed here, defensively.
"""

import json
from dataclasses import dataclass
from enum import Enum

import requests
from alpaca.common.exceptions import APIError

from plan_executor.ports import (
    BrokerError,
    OrderNotCancelable,
    OrderNotFound,
    OrderRejected,
)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
RATE_LIMITED = 429
NOT_FOUND = 404
UNPROCESSABLE = 422
UNAUTHORIZED = 401
REJECTION_STATUSES = frozenset({400, 403, 422})
_BODY_EXCERPT_CHARS = 200


class Operation(Enum):
    """What was being attempted; decides how a 404/422 reads."""

    READ = "read"
    SUBMIT = "submit"
    CANCEL = "cancel"


class TransientBrokerError(BrokerError):
    """Worth retrying (429, 5xx, timeout, connection error). Never leaves the adapter: exhausted
    retries become `BrokerUnavailable`."""

    def __init__(self, message: str, *, status: int | None, outcome_unknown: bool) -> None:
        super().__init__(message)
        self.status = status
        self.outcome_unknown = outcome_unknown
        """True when the broker may have acted on the request (timeouts, 5xx, resets); a 429
        certainly was not."""


class DuplicateClientOrderId(OrderRejected):
    """422: the client_order_id is taken. For a submit it means "look it up", never resend."""


@dataclass(frozen=True, slots=True)
class ErrorBody:
    code: int | None
    message: str


def parse_error_body(text: str) -> ErrorBody:
    """The Alpaca `{"code", "message"}` body, or the raw text's start when it is not one."""
    try:
        decoded: object = json.loads(text)
    except ValueError:
        return ErrorBody(None, _excerpt(text))
    if not isinstance(decoded, dict):
        return ErrorBody(None, _excerpt(text))
    code = decoded.get("code")
    message = decoded.get("message")
    return ErrorBody(
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        message if isinstance(message, str) else _excerpt(text),
    )


def translate(error: BaseException, operation: Operation) -> BrokerError:
    """The broker error for a failed SDK call. Cancellation is never passed here."""
    if isinstance(error, APIError):
        return _from_status(_status_of(error), parse_error_body(str(error)), operation)
    if isinstance(error, requests.RequestException):
        # Timeouts, refused or reset connections, unreadable responses. Whether the broker
        # acted is unknown (a refused connection was not, but a lookup is harmless).
        return TransientBrokerError(
            f"{type(error).__name__}: {error}", status=None, outcome_unknown=True
        )
    return BrokerError(f"unexpected broker client failure: {type(error).__name__}: {error}")


def _from_status(status: int | None, body: ErrorBody, operation: Operation) -> BrokerError:
    described = f"HTTP {status}: {body.message}" + ("" if body.code is None else f" ({body.code})")
    if status is None or status in TRANSIENT_STATUSES:
        return TransientBrokerError(
            described, status=status, outcome_unknown=status != RATE_LIMITED
        )
    if status == NOT_FOUND:
        return OrderNotFound(described)
    if status in REJECTION_STATUSES:
        return _rejection(status, body, operation, described)
    prefix = "authentication failed: " if status == UNAUTHORIZED else ""
    return BrokerError(prefix + described)


def _rejection(status: int, body: ErrorBody, operation: Operation, described: str) -> BrokerError:
    if status == UNPROCESSABLE and operation is Operation.CANCEL and _says_not_cancelable(body):
        return OrderNotCancelable(described)
    if status == UNPROCESSABLE and operation is Operation.SUBMIT and _says_duplicate(body):
        return DuplicateClientOrderId(described, code=body.code, status=status)
    return OrderRejected(described, code=body.code, status=status)


def _status_of(error: APIError) -> int | None:
    status: object = error.status_code
    return status if isinstance(status, int) else None


def _says_not_cancelable(body: ErrorBody) -> bool:
    return "cancelable" in body.message.lower()


def _says_duplicate(body: ErrorBody) -> bool:
    message = body.message.lower()
    return "client_order_id" in message and "unique" in message


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:_BODY_EXCERPT_CHARS] or "(empty body)"
