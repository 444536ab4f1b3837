"""ExecutionResult: JSON without floats, exact round trips, and REJECTED results from bad input."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from contract_paths import DELETE, set_at
from pydantic import ValidationError

from plan_executor.domain.enums import (
    Action,
    ChildOrderStatus,
    ExecutionStatus,
    ItemStatus,
    OrderType,
    Side,
    TradingMode,
)
from plan_executor.domain.events import decode_event_object, parse_rebalance_event
from plan_executor.domain.ledger_keys import attempt_token
from plan_executor.domain.money import Bps, Dollars, Price, Shares
from plan_executor.domain.rejections import (
    UNKNOWN,
    RejectionContext,
    rejected_result_for_event,
    rejected_result_for_invalid_event,
    salvage_ids,
)
from plan_executor.domain.results import (
    ArrivalQuote,
    ChildOrderRecord,
    ExecutionResult,
    LedgerRef,
    OrderResult,
    duration_ms,
    summarize_orders,
)
from plan_executor.domain.validation import PlanValidationError

MakeEvent = Callable[[], dict[str, Any]]
STARTED = datetime(2025, 6, 2, 14, 30, 6, 120000, tzinfo=UTC)
COMPLETED = STARTED + timedelta(seconds=41, milliseconds=7)
ATTEMPT = attempt_token(1, STARTED, "0a1b2c3d")
CONTEXT = RejectionContext(
    event_id="result-7f3c9a2e",
    started_at=STARTED,
    completed_at=COMPLETED,
    trading_mode=TradingMode.PAPER,
    attempt=ATTEMPT,
)


def _order(
    symbol: str, action: Action, status: ItemStatus, filled: str, avg: str | None
) -> OrderResult:
    qty = Shares(Decimal(filled))
    price = None if avg is None else Price(Decimal(avg))
    child = ChildOrderRecord(
        client_order_id=f"a1b2c3d4e5-{symbol}-{'b' if action is Action.BUY else 's'}-1",
        broker_order_id="61e69015-8549-4bfd-b9c3-01e75843f47d",
        order_type=OrderType.LIMIT,
        side=Side.BUY if action is Action.BUY else Side.SELL,
        qty=Shares(Decimal("12.345678901")),
        limit_price=Price(Decimal("187.42")),
        submitted_at=STARTED,
        terminal_at=COMPLETED,
        status=ChildOrderStatus.FILLED if filled != "0" else ChildOrderStatus.CANCELED,
        filled_qty=qty,
        avg_fill_price=price,
    )
    return OrderResult(
        symbol=symbol,
        action=action,
        planned_notional=Dollars(Decimal("2500.00")),
        filled_qty=qty,
        avg_fill_price=price,
        filled_notional=Dollars(qty * price) if price is not None else Dollars(Decimal(0)),
        status=status,
        arrival_quote=ArrivalQuote(
            bid=Price(Decimal("187.40")),
            ask=Price(Decimal("187.44")),
            mid=Price(Decimal("187.42")),
            time=STARTED,
        ),
        slippage_bps=Bps(Decimal(1) / Decimal(3)),
        repegs=2,
        market_fallback=status is ItemStatus.FILLED,
        reason=None,
        strategy_id="nuclear",
        child_orders=(child,),
    )


def _result() -> ExecutionResult:
    orders = (
        _order(
            "AAPL", Action.SELL, ItemStatus.FILLED, "12.345678901", "187.4133333333333333333333333"
        ),
        _order("MSFT", Action.BUY, ItemStatus.PARTIALLY_FILLED, "3", "415.1"),
        _order("NVDA", Action.BUY, ItemStatus.CANCELED, "0", None),
    )
    return ExecutionResult(
        event_id="result-1",
        correlation_id="8dfd7d33-03c2-4bc5-8478-730e937d3dc3",
        causation_id="19ad2c46-575d-45d3-b546-d66bf4fe1423",
        plan_id="rebal-20250602-143001-7f3c9a2e",
        status=ExecutionStatus.PARTIAL_SUCCESS,
        reason="MSFT: price ran 42 bps past the cap",
        trading_mode=TradingMode.SIMULATED,
        started_at=STARTED,
        completed_at=COMPLETED,
        duration_ms=duration_ms(STARTED, COMPLETED),
        attempt=ATTEMPT,
        orders=orders,
        summary=summarize_orders(orders, implementation_shortfall_bps=Bps(Decimal("-1.25"))),
        ledger=LedgerRef(bucket="plan-executor-ledger-dev", keys=("executions/a", "executions/b")),
    )


def _refuse_float(text: str) -> Decimal:
    raise AssertionError(f"a JSON number with a fraction or exponent was written: {text}")


def test_result_json_has_no_float_numbers() -> None:
    text = _result().model_dump_json()
    json.loads(text, parse_float=_refuse_float)
    assert '"avg_fill_price":"187.41"' in text
    assert '"filled_notional":"2313.74"' in text
    assert '"slippage_bps":"0.3333333333333333333333333333"' in text


def test_result_round_trips_digit_for_digit() -> None:
    original = _result()
    again = ExecutionResult.model_validate_json(original.model_dump_json())
    assert again == original
    assert again.model_dump_json() == original.model_dump_json()
    first_order = again.orders[0]
    assert first_order.filled_qty.as_tuple() == Decimal("12.345678901").as_tuple()


def test_positive_exponents_are_written_in_plain_digits() -> None:
    summary = summarize_orders((), implementation_shortfall_bps=Bps(Decimal("1E+2")))
    assert '"implementation_shortfall_bps":"100"' in summary.model_dump_json()


def test_summary_counts_and_notionals() -> None:
    summary = _result().summary
    assert (summary.items, summary.filled, summary.partially_filled, summary.canceled) == (
        3,
        1,
        1,
        1,
    )
    assert (summary.failed, summary.skipped) == (0, 0)
    assert summary.planned_sell_notional == Decimal("2500.00")
    assert summary.planned_buy_notional == Decimal("5000.00")
    assert summary.filled_buy_notional == Decimal("1245.30")
    assert summary.filled_sell_notional == Decimal("2313.74")  # 2313.7399999... in cents
    assert (summary.repegs, summary.market_fallbacks) == (6, 1)


@pytest.mark.parametrize(
    ("exact", "reported"),
    [
        ("2241.1690445658400016746", "2241.17"),  # issue 12 item 9: a sub-dollar stock's buy
        ("0.005", "0.00"),  # ties to even
        ("0.015", "0.02"),
        ("1245.3", "1245.30"),
        ("0", "0.00"),
        ("-0.000", "0.00"),  # a negative zero is written as zero
        ("12345678901234567890123456789.125", "12345678901234567890123456789.12"),  # 31 digits
    ],
)
def test_dollars_in_a_result_are_whole_cents_to_the_nearest_ties_to_even(
    exact: str, reported: str
) -> None:
    order = _order("AAPL", Action.BUY, ItemStatus.FILLED, "1", "100")
    rounded = order.model_copy(update={"filled_notional": Decimal(exact)})
    again = OrderResult.model_validate(rounded.model_dump())
    assert again.model_dump(mode="json")["filled_notional"] == reported


@pytest.mark.parametrize(
    ("exact", "reported"),
    [
        ("0.4523187416036283783783783784", "0.4523"),  # below $1: four decimals
        ("0.45215", "0.4522"),  # ties to even
        ("0.45225", "0.4522"),
        ("187.4133333333333333333333333", "187.41"),  # at or above $1: cents
        ("2.005", "2.00"),
        ("0.99996", "1.00"),  # reaches $1: restated in cents
        ("0.00004", "0.0001"),  # a positive price never becomes zero
    ],
)
def test_prices_in_a_result_are_on_the_brokers_tick_to_the_nearest_ties_to_even(
    exact: str, reported: str
) -> None:
    order = _order("PNNY", Action.BUY, ItemStatus.FILLED, "1", exact)
    dumped = order.model_dump(mode="json")
    assert dumped["avg_fill_price"] == reported
    assert dumped["child_orders"][0]["avg_fill_price"] == reported


def test_summary_totals_are_the_sums_of_the_rounded_items() -> None:
    # Each 1.005 reports 1.00 (ties to even); the total is their sum, 2.00, not 2.01.
    orders = tuple(
        _order(symbol, Action.BUY, ItemStatus.FILLED, "1", "1.005") for symbol in ("A", "B")
    )
    assert [order.filled_notional for order in orders] == [Decimal("1.00")] * 2
    summary = summarize_orders(orders, implementation_shortfall_bps=None)
    assert summary.filled_buy_notional == Decimal("2.00")
    assert summary.model_dump(mode="json")["filled_buy_notional"] == "2.00"


def test_duration_ms_is_whole_milliseconds() -> None:
    assert duration_ms(STARTED, COMPLETED) == 41_007
    assert duration_ms(COMPLETED, STARTED) == 0


def test_result_refuses_completion_before_start() -> None:
    with pytest.raises(ValidationError):
        ExecutionResult.model_validate(
            {**_result().model_dump(), "completed_at": STARTED - timedelta(seconds=1)}
        )


def test_result_refuses_negative_quantities_and_unknown_fields() -> None:
    data = _result().model_dump()
    with pytest.raises(ValidationError):
        ExecutionResult.model_validate({**data, "duration_ms": -1})
    with pytest.raises(ValidationError):
        ExecutionResult.model_validate({**data, "extra": 1})
    with pytest.raises(ValidationError):
        OrderResult.model_validate({**data["orders"][0], "filled_qty": "-1"})


def _invalid(raw: object) -> PlanValidationError:
    with pytest.raises(PlanValidationError) as caught:
        parse_rebalance_event(raw)  # type: ignore[arg-type]
    return caught.value


def test_rejection_of_a_missing_plan_id_salvages_the_other_ids(valid_raw_event: MakeEvent) -> None:
    raw = set_at(valid_raw_event(), "detail.rebalance_plan.plan_id", DELETE)
    result = rejected_result_for_invalid_event(CONTEXT, _invalid(raw), raw)
    assert result.status is ExecutionStatus.REJECTED
    assert result.plan_id == UNKNOWN
    assert result.causation_id == raw["id"]
    assert result.correlation_id == raw["detail"]["rebalance_plan"]["correlation_id"]
    assert result.reason == "detail.rebalance_plan.plan_id: required (Field required)"
    assert result.orders == ()
    assert result.duration_ms == 41_007
    assert ExecutionResult.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    "raw",
    [None, [], "text", {"id": "../../etc", "detail": {"rebalance_plan": {"plan_id": ".."}}},
     {"id": "x" * 500, "detail": "nope"}, {"detail": {"correlation_id": "a b"}}],
)  # fmt: skip
def test_rejection_of_garbage_is_still_a_valid_result(raw: object) -> None:
    result = rejected_result_for_invalid_event(CONTEXT, _invalid(raw), raw)
    assert (result.plan_id, result.causation_id, result.correlation_id) == (UNKNOWN,) * 3
    assert ExecutionResult.model_validate_json(result.model_dump_json()) == result


def test_salvage_reads_a_bare_detail(valid_raw_event: MakeEvent) -> None:
    ids = salvage_ids(valid_raw_event()["detail"])
    assert ids.plan_id == "rebal-20250602-143001-7f3c9a2e"
    assert ids.causation_id == UNKNOWN


def test_rejection_of_a_valid_plan_lists_every_item_as_skipped(events_dir: Path) -> None:
    text = (events_dir / "mixed-sell-and-buy.json").read_bytes()
    event = parse_rebalance_event(decode_event_object(text))
    result = rejected_result_for_event(CONTEXT, event, reason="x" * 5000)
    plan = event.detail.rebalance_plan
    assert [o.symbol for o in result.orders] == [i.symbol for i in plan.items]
    assert {o.status for o in result.orders} == {ItemStatus.SKIPPED}
    assert all(not o.child_orders and o.filled_qty == 0 for o in result.orders)
    assert result.summary.skipped == len(plan.items)
    assert result.summary.planned_sell_notional == plan.notional_for(Action.SELL)
    assert result.summary.planned_buy_notional == plan.notional_for(Action.BUY)
    assert result.reason is not None
    assert len(result.reason) == 1000
    assert (result.plan_id, result.causation_id) == (plan.plan_id, event.id)
