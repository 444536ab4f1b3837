"""Alpaca JSON -> Decimal, datetime and our value types; orders on the wire."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alpaca_samples import wire_order

from plan_executor.adapters.alpaca_mapping import order_body, order_from_wire
from plan_executor.adapters.alpaca_wire import (
    MalformedResponseError,
    account_from_wire,
    asset_from_wire,
    clock_from_wire,
    optional_decimal,
    position_from_wire,
    quote_from_wire,
    wire_time,
)
from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.money import price, shares
from plan_executor.ports import OrderRequest


def account(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "status": "ACTIVE",
        "equity": "99214.34",
        "cash": "40125.37",
        "buying_power": "40125.37",
        "account_blocked": False,
        "trading_blocked": False,
        "trade_suspended_by_user": False,
    }
    raw.update(overrides)
    return raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7.2273576", Decimal("7.2273576")),
        ("0.000000001", Decimal("0.000000001")),
        (271.48, Decimal("271.48")),
        (0.1, Decimal("0.1")),
        (530, Decimal(530)),
        (None, None),
    ],
)
def test_numbers_read_exactly(value: object, expected: Decimal | None) -> None:
    assert optional_decimal({"x": value}, "x") == expected


@pytest.mark.parametrize("value", [True, "NaN", "Infinity", "12,5", "", [], {}])
def test_unreadable_numbers_are_refused(value: object) -> None:
    with pytest.raises(MalformedResponseError):
        optional_decimal({"x": value}, "x")


def test_timestamps_keep_their_offset_and_drop_nanoseconds() -> None:
    assert wire_time({"t": "2026-11-24T14:45:00.123456789Z"}, "t") == datetime(
        2026, 11, 24, 14, 45, 0, 123456, tzinfo=UTC
    )
    assert wire_time({"t": "2026-11-24T09:45:00-05:00"}, "t").utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize("value", ["2026-11-24T14:45:00", "yesterday", 1700000000, None])
def test_timestamps_without_offset_or_unreadable_are_refused(value: object) -> None:
    with pytest.raises(MalformedResponseError):
        wire_time({"t": value}, "t")


def test_account_money_is_exact() -> None:
    snapshot = account_from_wire(account())

    assert snapshot.equity == Decimal("99214.34")
    assert snapshot.cash == Decimal("40125.37")
    assert snapshot.buying_power == Decimal("40125.37")
    assert snapshot.trading_blocked is False


@pytest.mark.parametrize(
    "change",
    [
        {"account_blocked": True},
        {"trading_blocked": True},
        {"trade_suspended_by_user": True},
        {"status": "ACCOUNT_UPDATED"},
        {"status": "ACTION_REQUIRED"},
        {"status": None},
        {"trading_blocked": None},
        {"account_blocked": "false"},
    ],
)
def test_any_block_or_non_active_status_blocks_trading(change: dict[str, object]) -> None:
    assert account_from_wire(account(**change)).trading_blocked is True


def test_a_missing_block_flag_blocks_trading() -> None:
    raw = account()
    del raw["trading_blocked"]

    assert account_from_wire(raw).trading_blocked is True


def test_an_account_without_buying_power_is_refused() -> None:
    raw = account()
    del raw["buying_power"]

    with pytest.raises(MalformedResponseError, match="buying_power"):
        account_from_wire(raw)


def test_clock() -> None:
    clock = clock_from_wire(
        {
            "timestamp": "2026-11-24T09:45:00.000000-05:00",
            "is_open": True,
            "next_open": "2026-11-25T09:30:00-05:00",
            "next_close": "2026-11-24T16:00:00-05:00",
        }
    )

    assert clock.is_open is True
    assert clock.at == datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
    assert clock.next_close == datetime(2026, 11, 24, 16, tzinfo=timezone(timedelta(hours=-5)))


def test_a_clock_without_is_open_is_refused() -> None:
    with pytest.raises(MalformedResponseError, match="is_open"):
        clock_from_wire(
            {
                "timestamp": "2026-11-24T09:45:00-05:00",
                "is_open": "true",
                "next_open": "2026-11-25T09:30:00-05:00",
                "next_close": "2026-11-24T16:00:00-05:00",
            }
        )


def test_positions_keep_every_decimal() -> None:
    position = position_from_wire({"symbol": "SPY", "qty": "7.2273576", "qty_available": "5"})

    assert position.qty == Decimal("7.2273576")
    assert position.qty_available == Decimal(5)


def test_a_position_without_qty_available_offers_its_qty() -> None:
    assert position_from_wire({"symbol": "SPY", "qty": "2"}).qty_available == Decimal(2)


def test_assets_read_their_flags_and_missing_ones_say_no() -> None:
    listed = asset_from_wire(
        {"symbol": "BRK.B", "status": "active", "tradable": True, "fractionable": False}
    )
    bare = asset_from_wire({"symbol": "X", "status": "inactive"})

    assert (listed.active, listed.tradable, listed.fractionable) == (True, True, False)
    assert (bare.active, bare.tradable, bare.fractionable) == (False, False, False)


def test_quotes_are_decimal_from_json_numbers() -> None:
    quote = quote_from_wire(
        "PNNY",
        {"t": "2026-11-24T14:45:00.5Z", "ap": 0.4523, "as": 800, "bp": 0.4519, "bs": 700},
    )

    assert (quote.bid, quote.ask) == (Decimal("0.4519"), Decimal("0.4523"))
    assert (quote.bid_size, quote.ask_size) == (Decimal(700), Decimal(800))
    assert quote.at == datetime(2026, 11, 24, 14, 45, 0, 500000, tzinfo=UTC)


def test_a_one_sided_quote_is_kept_for_the_domain_to_judge() -> None:
    quote = quote_from_wire("X", {"t": "2026-11-24T14:45:00Z", "ap": 0, "as": 0, "bp": 5, "bs": 1})

    assert quote.ask == 0


def test_an_order_reads_exactly() -> None:
    order = order_from_wire(
        wire_order(
            status="partially_filled",
            qty="7.2273576",
            filled_qty="0.000000001",
            filled_avg_price="271.4449",
        )
    )

    assert order.qty == Decimal("7.2273576")
    assert order.filled_qty == Decimal("0.000000001")
    assert order.filled_avg_price == Decimal("271.4449")
    assert order.limit_price == Decimal("271.45")
    assert order.status is ChildOrderStatus.PARTIALLY_FILLED
    assert (order.side, order.order_type) == (Side.BUY, OrderType.LIMIT)
    assert order.submitted_at == datetime(2026, 11, 24, 14, 45, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 24, 14, 45, 1, tzinfo=UTC)


def test_an_average_of_zero_is_no_average() -> None:
    assert order_from_wire(wire_order(filled_avg_price="0")).filled_avg_price is None


def test_a_notional_order_of_someone_else_reads_its_filled_qty() -> None:
    order = order_from_wire(
        wire_order(qty=None, notional="100", type="market", limit_price=None, filled_qty="0.3")
    )

    assert order.qty == Decimal("0.3")
    assert order.order_type is OrderType.MARKET


@pytest.mark.parametrize(
    ("alpaca_type", "ours"),
    [
        ("stop", OrderType.MARKET),
        ("trailing_stop", OrderType.MARKET),
        ("stop_limit", OrderType.LIMIT),
    ],
)
def test_foreign_order_types_read_as_what_they_become(alpaca_type: str, ours: OrderType) -> None:
    assert order_from_wire(wire_order(type=alpaca_type)).order_type is ours


def test_the_deprecated_order_type_field_is_read_when_type_is_missing() -> None:
    raw = wire_order(order_type="market", limit_price=None)
    del raw["type"]

    assert order_from_wire(raw).order_type is OrderType.MARKET


@pytest.mark.parametrize(
    "change", [{"side": "short"}, {"type": "iceberg"}, {"id": None}, {"status": 3}, {"qty": "x"}]
)
def test_an_unreadable_order_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(MalformedResponseError):
        order_from_wire(wire_order(**change))


def test_a_limit_order_goes_out_as_exact_decimal_strings() -> None:
    request = OrderRequest(
        client_order_id="abc-SPY-s-1",
        symbol="SPY",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=shares("7.2273576"),
        limit_price=price("679.35"),
    )

    assert order_body(request) == {
        "symbol": "SPY",
        "qty": "7.2273576",
        "side": "sell",
        "type": "limit",
        "time_in_force": "day",
        "client_order_id": "abc-SPY-s-1",
        "limit_price": "679.35",
    }


def test_a_market_order_has_no_price_and_no_exponent() -> None:
    request = OrderRequest(
        client_order_id="abc-MSFT-b-2",
        symbol="MSFT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=shares(Decimal("1E+1")),
    )

    body = order_body(request)

    assert body["qty"] == "10"
    assert "limit_price" not in body
    assert "notional" not in body
