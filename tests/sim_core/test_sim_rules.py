"""Every Alpaca rule the simulator enforces, with Alpaca's status, code, message and extras."""

import pytest
from simcore_support import limit, make_venue, market, refused

from alpaca_sim import SimError
from alpaca_sim.errors import BAD_REQUEST, FORBIDDEN, NOT_FOUND, UNPROCESSABLE


def submit_refusal(body: dict[str, object]) -> SimError:
    venue = make_venue()
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    return refused(lambda: venue.submit_order(body))


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (
            market("AAPL", "buy", "1", client_order_id="x" * 129),
            422,
            BAD_REQUEST,
            "client_order_id must be no more than 128 characters",
        ),
        (
            {
                "symbol": "AAPL",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "qty": "1",
                "notional": "10",
            },
            422,
            BAD_REQUEST,
            "only one of qty or notional may be given",
        ),
        (
            {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"},
            422,
            BAD_REQUEST,
            "qty or notional is required",
        ),
        (market("AAPL", "buy", "0"), 422, BAD_REQUEST, "qty must be > 0"),
        (market("AAPL", "buy", "-3"), 422, BAD_REQUEST, "qty must be > 0"),
        (
            market("AAPL", "buy", "0.0000000001"),
            422,
            BAD_REQUEST,
            "qty must have at most 9 decimal places",
        ),
        (market("AAPL", "buy", "abc"), 422, BAD_REQUEST, "invalid qty: abc"),
        (
            {
                "symbol": "AAPL",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "notional": "0",
            },
            422,
            BAD_REQUEST,
            "notional must be > 0",
        ),
        (
            limit("AAPL", "buy", "1", "290.123"),
            422,
            UNPROCESSABLE,
            "invalid limit_price 290.123. sub-penny increment does not fulfill minimum pricing "
            "criteria",
        ),
        (
            limit("PNNY", "buy", "10", "0.45215"),
            422,
            UNPROCESSABLE,
            "invalid limit_price 0.45215. sub-penny increment does not fulfill minimum pricing "
            "criteria",
        ),
        (market("BRK.B", "buy", "1.5"), 403, FORBIDDEN, 'asset "BRK.B" is not fractionable'),
        (
            {
                "symbol": "BRK.B",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "notional": "100",
            },
            403,
            FORBIDDEN,
            'asset "BRK.B" is not fractionable',
        ),
        (
            market("AAPL", "buy", "1.5", time_in_force="gtc"),
            422,
            UNPROCESSABLE,
            "fractional orders must be DAY orders",
        ),
        (
            market("AAPL", "buy", "1.5", order_class="bracket"),
            422,
            UNPROCESSABLE,
            "fractional orders must be simple orders",
        ),
        (
            {
                "symbol": "AAPL",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
                "notional": "0.99",
            },
            403,
            FORBIDDEN,
            "cost basis must be >= minimal amount of order 1",
        ),
        (market("NOPE", "buy", "1"), 422, UNPROCESSABLE, "invalid symbol"),
        (market("DFNCT", "buy", "1"), 422, UNPROCESSABLE, 'asset "DFNCT" is not active'),
        (market("LOCKD", "buy", "1"), 422, UNPROCESSABLE, 'asset "LOCKD" is not tradable'),
        (market("AAPL", "hold", "1"), 422, BAD_REQUEST, "invalid side: hold"),
        (
            market("AAPL", "buy", "1", type="stop"),
            422,
            UNPROCESSABLE,
            "type stop is not supported by the simulator",
        ),
        (
            market("AAPL", "buy", "1", time_in_force="opg"),
            422,
            UNPROCESSABLE,
            "time_in_force opg is not supported by the simulator",
        ),
        (
            market("AAPL", "buy", "1", extended_hours=True),
            422,
            UNPROCESSABLE,
            "extended hours order must be DAY limit orders",
        ),
        (
            {"symbol": "AAPL", "side": "buy", "type": "limit", "time_in_force": "day", "qty": "1"},
            422,
            BAD_REQUEST,
            "limit_price is required for limit orders",
        ),
        (
            {
                "symbol": "AAPL",
                "side": "buy",
                "type": "limit",
                "time_in_force": "day",
                "notional": "50",
                "limit_price": "270",
            },
            422,
            UNPROCESSABLE,
            "notional orders must be market orders",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_order_shape_rules(body: dict[str, object], status: int, code: int, message: str) -> None:
    error = submit_refusal(body)
    assert (error.status, error.code, error.message) == (status, code, message)
    assert error.body() == {"code": code, "message": message}


def test_sub_dollar_prices_may_have_four_decimals() -> None:
    venue = make_venue()
    order = venue.submit_order(limit("PNNY", "buy", "10", "0.4001"))
    assert order["limit_price"] == "0.4001"


def test_numbers_arrive_as_json_numbers_or_strings() -> None:
    venue = make_venue()
    venue.set_halted("SPY", True)
    as_float = venue.submit_order(limit("SPY", "sell", 7.2273576, 679.35))  # type: ignore[arg-type]
    assert as_float["qty"] == "7.2273576"
    assert as_float["limit_price"] == "679.35"


def test_client_order_id_is_unique_forever_even_after_cancel() -> None:
    venue = make_venue()
    venue.set_halted("AAPL", True)
    first = venue.submit_order(market("AAPL", "buy", "1", client_order_id="plan-AAPL-b-1"))
    venue.cancel_order(first["id"])
    assert venue.get_order(first["id"])["status"] == "canceled"
    error = refused(
        lambda: venue.submit_order(market("AAPL", "buy", "1", client_order_id="plan-AAPL-b-1"))
    )
    assert (error.status, error.code, error.message) == (
        422,
        BAD_REQUEST,
        "client_order_id must be unique",
    )


def test_insufficient_buying_power_reports_buying_power_and_cost_basis() -> None:
    venue = make_venue()
    venue.script_quote("MSFT", bid="500.00", ask="500.10")
    error = refused(lambda: venue.submit_order(limit("MSFT", "buy", "100", "500.10")))
    assert (error.status, error.code, error.message) == (
        403,
        FORBIDDEN,
        "insufficient buying power",
    )
    assert error.extra == {"buying_power": "40125.37", "cost_basis": "50010"}


def test_insufficient_qty_available_reports_what_is_held_and_by_whom() -> None:
    venue = make_venue()
    venue.set_halted("NVDA", True)
    held = venue.submit_order(limit("NVDA", "sell", "20", "250.00"))
    error = refused(lambda: venue.submit_order(limit("NVDA", "sell", "12", "250.00")))
    assert (error.status, error.code) == (403, FORBIDDEN)
    assert error.message == "insufficient qty available for order (requested: 12, available: 11.6)"
    assert error.extra == {
        "available": "11.6",
        "existing_qty": "31.6",
        "held_for_orders": "20",
        "related_orders": [held["id"]],
        "symbol": "NVDA",
    }


def test_selling_what_is_not_held_is_insufficient_qty() -> None:
    error = submit_refusal(market("PNNY", "sell", "10"))
    assert (error.status, error.code, error.extra["available"]) == (403, FORBIDDEN, "0")


def test_opposite_side_open_order_that_could_cross_is_a_potential_wash_trade() -> None:
    venue = make_venue()
    venue.set_halted("GOOGL", True)
    venue.submit_order(limit("GOOGL", "sell", "1", "300.00"))
    error = refused(lambda: venue.submit_order(limit("GOOGL", "buy", "1", "300.00")))
    assert (error.status, error.code, error.message) == (
        403,
        FORBIDDEN,
        "potential wash trade detected. use complex orders",
    )
    venue.submit_order(limit("GOOGL", "sell", "1", "351.00"))  # same side is fine


def test_terminal_orders_are_not_cancelable() -> None:
    venue = make_venue()
    venue.script_quote("AAPL", bid="270.00", ask="270.10")
    filled = venue.submit_order(market("AAPL", "buy", "1"))
    assert filled["status"] == "filled"
    error = refused(lambda: venue.cancel_order(filled["id"]))
    assert (error.status, error.code, error.message) == (
        422,
        UNPROCESSABLE,
        'order is already in "filled" state',
    )


def test_unknown_and_malformed_order_ids() -> None:
    venue = make_venue()
    missing = "0b8e5a9e-5a7b-4b8a-9a55-2b0c1d2e3f40"
    for call in (
        lambda: venue.cancel_order(missing),
        lambda: venue.get_order(missing),
        lambda: venue.replace_order(missing, {"qty": 1}),
    ):
        error = refused(call)
        assert (error.status, error.code, error.message) == (404, NOT_FOUND, "order not found")
    for call in (lambda: venue.cancel_order("not-a-uuid"), lambda: venue.get_order("12")):
        error = refused(call)
        assert (error.status, error.code, error.message) == (
            422,
            BAD_REQUEST,
            "order_id is missing",
        )
    assert refused(lambda: venue.get_order_by_client_id("nope")).status == 404
    assert refused(lambda: venue.get_asset("NOPE")).status == 404
    assert refused(lambda: venue.get_position("PNNY")).status == 404


def test_list_orders_argument_errors() -> None:
    venue = make_venue()
    assert refused(lambda: venue.list_orders(status="pending")).code == BAD_REQUEST
    assert refused(lambda: venue.list_orders(direction="up")).code == BAD_REQUEST
    assert refused(lambda: venue.list_orders(after="yesterday")).code == BAD_REQUEST
    assert refused(lambda: venue.latest_quotes(["AAPL"], feed="nasdaq")).status == 400
