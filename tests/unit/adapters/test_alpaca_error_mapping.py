"""SDK and `requests` failures -> our broker errors, whatever the body looks like."""

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca_samples import api_error

from plan_executor.adapters.alpaca_errors import (
    AmbiguousRefusal,
    CancelRefused,
    DuplicateClientOrderId,
    Operation,
    TransientBrokerError,
    parse_error_body,
    translate,
)
from plan_executor.ports import (
    BrokerError,
    OrderNotFound,
    OrderRejected,
)


def alpaca_body(code: int, message: str) -> dict[str, object]:
    return {"code": code, "message": message}


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retryable(status: int) -> None:
    error = translate(api_error(status, alpaca_body(status * 100000, "x")), Operation.READ)

    assert isinstance(error, TransientBrokerError)
    assert error.status == status


def test_a_429_was_not_acted_on_but_a_5xx_may_have_been() -> None:
    limited = translate(api_error(429, alpaca_body(42910000, "rate")), Operation.SUBMIT)
    gateway = translate(api_error(504, alpaca_body(50410000, "gw")), Operation.SUBMIT)

    assert isinstance(limited, TransientBrokerError)
    assert isinstance(gateway, TransientBrokerError)
    assert limited.outcome_unknown is False
    assert gateway.outcome_unknown is True


def test_a_non_json_500_maps_cleanly_with_an_excerpt_of_the_page() -> None:
    page = "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>"

    error = translate(api_error(500, page), Operation.READ)

    assert isinstance(error, TransientBrokerError)
    assert "502 Bad Gateway" in str(error)


def test_a_forbidden_without_code_is_a_rejection_without_code() -> None:
    error = translate(api_error(403, {"message": "forbidden."}), Operation.SUBMIT)

    assert type(error) is OrderRejected
    assert (error.code, error.status) == (None, 403)
    assert "forbidden." in str(error)


def test_a_business_rejection_keeps_code_and_status() -> None:
    body = {"code": 40310000, "message": "insufficient buying power", "buying_power": "12"}

    error = translate(api_error(403, body), Operation.SUBMIT)

    assert type(error) is OrderRejected
    assert (error.code, error.status) == (40310000, 403)
    assert "insufficient buying power" in str(error)


def test_a_non_json_422_to_a_submit_is_a_refusal_to_resolve_by_lookup() -> None:
    error = translate(api_error(422, "unprocessable"), Operation.SUBMIT)

    assert isinstance(error, AmbiguousRefusal)
    assert type(error.rejection) is OrderRejected
    assert (error.rejection.status, error.rejection.code) == (422, None)


@pytest.mark.parametrize(
    "message", ["client_order_id must be unique", "Client Order ID must be unique."]
)
def test_a_422_that_says_the_id_is_taken_means_look_it_up_never_resend(message: str) -> None:
    error = translate(api_error(422, alpaca_body(40010001, message)), Operation.SUBMIT)

    assert isinstance(error, DuplicateClientOrderId)
    assert (error.status, error.code) == (422, 40010001)


def test_a_409_to_a_submit_is_a_duplicate_whatever_its_body() -> None:
    assert isinstance(translate(api_error(409, ""), Operation.SUBMIT), DuplicateClientOrderId)


def test_words_about_the_id_that_do_not_say_taken_are_no_duplicate() -> None:
    body = alpaca_body(40010001, "client_order_id must be no more than 128 characters")

    error = translate(api_error(422, body), Operation.SUBMIT)

    assert type(error) is AmbiguousRefusal


def test_a_duplicate_message_outside_a_submit_is_a_plain_rejection() -> None:
    body = alpaca_body(40010001, "client_order_id must be unique")

    assert type(translate(api_error(422, body), Operation.READ)) is OrderRejected


@pytest.mark.parametrize(
    "body",
    [
        alpaca_body(42210000, 'order is already in "filled" state'),
        alpaca_body(42210000, "order is not cancelable"),
        alpaca_body(40010001, "order_id is missing"),
        "",
    ],
)
def test_any_422_to_a_cancel_is_a_refusal_to_resolve_by_reading_the_order(body: object) -> None:
    assert type(translate(api_error(422, body), Operation.CANCEL)) is CancelRefused


def test_a_409_outside_a_submit_is_a_broker_error() -> None:
    assert type(translate(api_error(409, ""), Operation.CANCEL)) is BrokerError


@pytest.mark.parametrize("operation", list(Operation))
def test_404_is_not_found(operation: Operation) -> None:
    body = alpaca_body(40410000, "order not found")

    assert isinstance(translate(api_error(404, body), operation), OrderNotFound)


def test_unauthorized_is_a_broker_error_not_worth_retrying() -> None:
    error = translate(api_error(401, {"message": "unauthorized"}), Operation.READ)

    assert type(error) is BrokerError
    assert "authentication failed" in str(error)


def test_an_api_error_without_response_is_transient() -> None:
    error = translate(APIError("boom"), Operation.SUBMIT)

    assert isinstance(error, TransientBrokerError)
    assert error.outcome_unknown is True


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("Connection refused"),
        requests.ConnectionError("Connection reset by peer"),
        requests.ReadTimeout("read timed out"),
        requests.ConnectTimeout("connect timed out"),
        requests.exceptions.ChunkedEncodingError("broken body"),
        requests.JSONDecodeError("Expecting value", "<html>", 0),
    ],
)
def test_network_failures_are_transient_with_unknown_outcome(failure: Exception) -> None:
    error = translate(failure, Operation.SUBMIT)

    assert isinstance(error, TransientBrokerError)
    assert error.outcome_unknown is True


def test_anything_else_is_a_broker_error_not_worth_retrying() -> None:
    error = translate(ValueError("badly formed hexadecimal UUID string"), Operation.CANCEL)

    assert type(error) is BrokerError
    assert "ValueError" in str(error)


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ('{"code": 40310000, "message": "wash trade"}', 40310000, "wash trade"),
        ('{"message": "forbidden."}', None, "forbidden."),
        ('{"code": "40310000", "message": 5}', None, '{"code": "40310000", "message": 5}'),
        ('{"code": true, "message": "x"}', None, "x"),
        ("[1, 2]", None, "[1, 2]"),
        ("", None, "(empty body)"),
        ("   <h1>\nDown</h1>  ", None, "<h1> Down</h1>"),
    ],
)
def test_error_bodies_are_read_defensively(text: str, code: int | None, message: str) -> None:
    body = parse_error_body(text)

    assert (body.code, body.message) == (code, message)


def test_a_long_body_is_cut() -> None:
    assert len(parse_error_body("x" * 10_000).message) == 200
