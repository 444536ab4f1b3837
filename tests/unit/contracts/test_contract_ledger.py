"""Ledger keys never collide between attempts; ledger lines round-trip with their kind."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from plan_executor.domain.enums import ChildOrderStatus, OrderType, Side
from plan_executor.domain.ledger import (
    CancelReason,
    LedgerCancellationLine,
    LedgerFill,
    LedgerOrderLine,
    orders_jsonl,
    parse_ledger_line,
)
from plan_executor.domain.ledger_keys import attempt_token, ledger_keys
from plan_executor.domain.money import Price, Shares
from plan_executor.domain.results import ArrivalQuote

AT = datetime(2025, 6, 2, 14, 30, 6, tzinfo=UTC)


def test_keys_are_hive_partitioned() -> None:
    attempt = attempt_token(2, AT, "9f86d081")
    keys = ledger_keys("rebal-1", date(2025, 6, 2), attempt)
    prefix = "executions/date=2025-06-02/plan_id=rebal-1/attempt=0002-20250602T143006Z-9f86d081/"
    assert keys.prefix == prefix
    assert keys.result == prefix + "result.json"
    assert keys.orders == prefix + "orders.jsonl"
    assert keys.all == (keys.result, keys.orders)


def test_attempt_token_uses_utc() -> None:
    local = AT.astimezone(timezone(timedelta(hours=-4)))
    assert attempt_token(1, local, "00000000") == "0001-20250602T143006Z-00000000"


@pytest.mark.parametrize(
    ("number", "started", "nonce"),
    [
        (0, AT, "00000000"),
        (10_000, AT, "00000000"),
        (1, AT.replace(tzinfo=None), "00000000"),
        (1, AT, "short"),
        (1, AT, "NOT-HEX!"),
        (1, AT, "0123456789ABCDEF"),
    ],
)
def test_attempt_token_refuses_bad_parts(number: int, started: datetime, nonce: str) -> None:
    with pytest.raises(ValueError, match=r"attempt number|timezone-aware|nonce"):
        attempt_token(number, started, nonce)


@pytest.mark.parametrize("plan_id", ["../x", "..", ".hidden", "-x", "a/b", "a b", "", "p" * 65])
def test_keys_refuse_unsafe_plan_ids(plan_id: str) -> None:
    with pytest.raises(ValueError, match="plan_id is not safe"):
        ledger_keys(plan_id, date(2025, 6, 2), attempt_token(1, AT, "00000000"))


def test_keys_refuse_a_non_token_attempt_and_a_datetime_day() -> None:
    with pytest.raises(ValueError, match="not an attempt token"):
        ledger_keys("rebal-1", date(2025, 6, 2), "1")
    with pytest.raises(TypeError, match="must be a date"):
        ledger_keys("rebal-1", AT, attempt_token(1, AT, "00000000"))


@settings(max_examples=100, deadline=None)
@given(
    attempts=st.lists(
        st.tuples(
            st.integers(1, 3),
            st.datetimes(min_value=datetime(2025, 6, 2), max_value=datetime(2025, 6, 2, 0, 0, 3)),
            st.binary(min_size=4, max_size=4).map(bytes.hex),
        ),
        min_size=2,
        max_size=20,
        unique_by=lambda a: (a[0], a[1].replace(microsecond=0), a[2]),
    )
)
def test_distinct_attempts_never_share_keys(attempts: list[tuple[int, datetime, str]]) -> None:
    # Same plan, same day, same few numbers and seconds: only the nonce may tell them apart.
    keys = [
        ledger_keys("rebal-1", date(2025, 6, 2), attempt_token(n, at.replace(tzinfo=UTC), nonce))
        for n, at, nonce in attempts
    ]
    every_key = [key for k in keys for key in k.all]
    assert len(set(every_key)) == len(every_key)


def _quote() -> ArrivalQuote:
    return ArrivalQuote(
        bid=Price(Decimal("99.98")),
        ask=Price(Decimal("100.02")),
        mid=Price(Decimal("100.00")),
        time=AT,
    )


def _ids() -> dict[str, object]:
    return {
        "plan_id": "rebal-1",
        "attempt": attempt_token(1, AT, "0a1b2c3d"),
        "correlation_id": "corr-1",
        "symbol": "BRK.B",
        "side": Side.SELL,
        "client_order_id": "a1b2c3d4e5-BRK.B-s-1",
        "broker_order_id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
        "arrival_quote": _quote(),
        "fills": (
            LedgerFill(
                execution_id="x1",
                qty=Shares(Decimal("7.2273576")),
                price=Price(Decimal("100.01")),
                time=AT,
            ),
        ),
        "recorded_at": AT + timedelta(seconds=2),
    }


def _order_line() -> LedgerOrderLine:
    return LedgerOrderLine(
        **_ids(),  # type: ignore[arg-type]
        order_type=OrderType.LIMIT,
        qty=Shares(Decimal("7.2273576")),
        limit_price=Price(Decimal("100.01")),
        status=ChildOrderStatus.FILLED,
        submitted_at=AT,
        terminal_at=AT + timedelta(seconds=1),
        filled_qty=Shares(Decimal("7.2273576")),
        avg_fill_price=Price(Decimal("100.01")),
    )


def _cancel_line() -> LedgerCancellationLine:
    return LedgerCancellationLine(
        **_ids(),  # type: ignore[arg-type]
        reason=CancelReason.REPEG,
        requested_at=AT,
        confirmed_at=None,
        filled_qty=Shares(Decimal("0")),
    )


def test_orders_jsonl_round_trips_each_kind() -> None:
    lines = [_order_line(), _cancel_line()]
    text = orders_jsonl(lines)
    assert text.endswith("\n")
    assert text.count("\n") == 2
    parsed = [parse_ledger_line(line) for line in text.splitlines()]
    assert parsed == lines
    assert [json.loads(line)["kind"] for line in text.splitlines()] == ["order", "cancellation"]
    assert text.splitlines()[0].startswith('{"kind":"order","plan_id":"rebal-1"')
    assert '"qty":"7.2273576"' in text


def test_unknown_kind_is_refused() -> None:
    line = json.loads(orders_jsonl([_cancel_line()]))
    line["kind"] = "trade"
    with pytest.raises(ValidationError, match="union_tag_invalid"):
        parse_ledger_line(json.dumps(line))
