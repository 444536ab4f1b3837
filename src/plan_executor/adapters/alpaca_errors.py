"""alpaca-py and `requests` failures -> our broker errors.

Never trusts an error body: `APIError.code`/`.message` parse the body on every access and raise
on a non-JSON body or one without a `code`, so the raw text is parsed here, defensively.

A refusal is read by its HTTP status (and the operation), not by its words: Alpaca's words and
codes for one refusal have changed over time and its codes are shared by unrelated refusals
(tests/support/alpaca_error_bodies.py has every recorded body, with its source). Where the status
alone cannot say what the broker did, the refusal is handed back for the adapter to resolve by
reading the order: a 422 to a submit (`AmbiguousRefusal`: refused, or the client_order_id was
already placed?) and a 422 to a cancel (`CancelRefused`: past cancelling, or refused while live?).
The words are only ever a hint toward more caution (a 422 that says the id is taken is never sent
again, whatever the lookup finds).
"""

import json
import re
from dataclasses import dataclass
from enum import Enum

import requests
from alpaca.common.exceptions import APIError

from plan_executor.ports import (
    BrokerError,
    OrderNotFound,
    OrderRejected,
)

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
RATE_LIMITED = 429
NOT_FOUND = 404
UNPROCESSABLE = 422
UNAUTHORIZED = 401
CONFLICT = 409
REJECTION_STATUSES = frozenset({400, 403, 422})
_BODY_EXCERPT_CHARS = 200
_SAYS_TAKEN = re.compile(r"client[ _-]?order[ _-]?id\b.*\bunique", re.IGNORECASE)
"""Both recorded wordings: "client_order_id must be unique", "client order id must be unique"."""


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
    """A submit refused because the client_order_id is taken: 409 (Alpaca's CLI guidance), or a
    422 that says so. It means "look it up", never resend. Never leaves the adapter."""


class AmbiguousRefusal(BrokerError):
    """A submit refused with 422, the status Alpaca gives both a duplicate client_order_id and
    refusals of the order itself, under codes it reuses for both (40010001, 42210000) or none.
    Only a lookup of the id tells them apart. Never leaves the adapter: the lookup turns it into
    the order found, or into `rejection`."""

    def __init__(self, rejection: OrderRejected) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection


class CancelRefused(BrokerError):
    """A cancel refused with 422: Alpaca's answer for an order past cancelling ("order is already
    in \"filled\" state"), but the status and its codes answer other refusals too. Only the
    order's own state says which. Never leaves the adapter: reading the order turns it into
    `OrderNotCancelable` (terminal) or a plain `BrokerError` (still open: not cancelled)."""


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
    if status in REJECTION_STATUSES or status == CONFLICT:
        return _refusal(OrderRejected(described, code=body.code, status=status), body, operation)
    prefix = "authentication failed: " if status == UNAUTHORIZED else ""
    return BrokerError(prefix + described)


def _refusal(rejection: OrderRejected, body: ErrorBody, operation: Operation) -> BrokerError:
    if operation is Operation.SUBMIT:
        return _submit_refusal(rejection, body)
    if operation is Operation.CANCEL and rejection.status == UNPROCESSABLE:
        return CancelRefused(str(rejection))
    if rejection.status == CONFLICT:
        return BrokerError(str(rejection))
    return rejection


def _submit_refusal(rejection: OrderRejected, body: ErrorBody) -> BrokerError:
    """409 is a duplicate; 422 may be one (a lookup decides); 400 and 403 refuse the order."""
    says_taken = _SAYS_TAKEN.search(body.message) is not None
    if rejection.status == CONFLICT or (rejection.status == UNPROCESSABLE and says_taken):
        return DuplicateClientOrderId(str(rejection), code=rejection.code, status=rejection.status)
    if rejection.status == UNPROCESSABLE:
        return AmbiguousRefusal(rejection)
    return rejection


def _status_of(error: APIError) -> int | None:
    status: object = error.status_code
    return status if isinstance(status, int) else None


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:_BODY_EXCERPT_CHARS] or "(empty body)"
