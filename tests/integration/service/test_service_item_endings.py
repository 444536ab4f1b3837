"""How items end, through the Lambda handler against alpaca_sim and moto (issue 12 items 3, 4,
5 and 9): a buy below one share is a skip, a sell above the holding says it was capped, a filled
item's reason is about its final state, and money in the result is rounded while the ledger
keeps the exact fills."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from types import ModuleType
from typing import Any

import pytest
from service_support import (
    LambdaContextStub,
    SimThread,
    current_event,
    invoke,
    service_scenario,
)
from tests.support.aws_stack import AwsStack

from alpaca_sim.server import SimServer
from plan_executor.domain.enums import Side
from plan_executor.domain.events import parse_rebalance_event
from plan_executor.domain.fingerprint import plan_fingerprint
from plan_executor.domain.ledger import LedgerOrderLine, parse_ledger_line
from plan_executor.domain.order_ids import client_order_id, short_plan_hash
from plan_executor.engine.config import ExecutionSettings

CENTS = re.compile(r"^[0-9]+\.[0-9]{2}$")
SUB_DOLLAR_TICK = re.compile(r"^0\.[0-9]{4}$")
NEVER_S = 600_000.0
"""Fill latency (ms) far beyond any test: a resting order fills only when a cancel races it."""
DEADLINE_BUDGET_S = 10.0
"""What is left for trading after the margin and the cleanup: the one limit of the walk is
sent within it, and rests far longer (STEP_WAIT_SECONDS below)."""


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[SimThread]:
    """The service sim; parametrize indirectly with a cash amount to start from that cash."""
    scenario = service_scenario(datetime.now(UTC))
    cash = getattr(request, "param", None)
    if cash is not None:
        scenario = replace(scenario, cash=Decimal(cash))
    with SimThread(scenario) as running:
        yield running


def plan_event(plan_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    """A plan published now with exactly `items` (NORMAL urgency)."""
    event = current_event("mixed-sell-and-buy.json")
    plan = event["detail"]["rebalance_plan"]
    plan["plan_id"] = plan_id
    plan["items"] = list(items)
    return event


def plan_item(symbol: str, action: str, amount: str, *, priority: int = 1) -> dict[str, Any]:
    buying = action == "BUY"
    return {
        "symbol": symbol,
        "action": action,
        "trade_amount": amount if buying else f"-{amount}",
        "current_weight": "0.05" if buying else "0.2",
        "target_weight": "0.1" if buying else "0.05",
        "weight_diff": "0.05" if buying else "-0.15",
        "current_value": "5000.00",
        "target_value": "10000.00",
        "priority": priority,
        "strategy_id": "nuclear",
    }


def the_order(result: dict[str, Any], symbol: str) -> dict[str, Any]:
    [order] = [order for order in result["orders"] if order["symbol"] == symbol]
    return order


def published_order(stack: AwsStack, symbol: str) -> dict[str, Any]:
    [published] = stack.result_events(expected=1)
    return the_order(published["detail"], symbol)


def ledger_order_lines(stack: AwsStack, result: dict[str, Any]) -> list[LedgerOrderLine]:
    key = next(key for key in result["ledger"]["keys"] if key.endswith("orders.jsonl"))
    body = stack.client("s3").get_object(Bucket=stack.ledger_bucket, Key=key)["Body"].read()
    lines = [parse_ledger_line(line) for line in body.decode().splitlines()]
    return [line for line in lines if isinstance(line, LedgerOrderLine)]


def arm_race_on_the_first_market_order(sim: SimThread, symbol: str) -> None:
    """When the first market order on `symbol` reaches the sim, its next cancel there loses to
    a fill of the whole remainder (the walk's limit cancels all come before it)."""
    armed: list[bool] = []

    def on_update(server: SimServer, update: dict[str, Any]) -> None:
        order = update.get("order")
        if armed or not isinstance(order, dict):
            return
        if order.get("symbol") == symbol and order.get("type") == "market":
            armed.append(True)
            server.faults.race_fill_on_next_cancel(symbol)

    sim.call(lambda server: server.venue.subscribe(lambda update: on_update(server, update)))


# --- item 3: a buy below one share is a skip ---------------------------------------------


def test_a_buy_below_one_share_of_a_non_fractionable_asset_is_skipped_rounds_to_zero(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = plan_event(
        "endings-brk-below-one-share",
        plan_item("BRK.B", "BUY", "400.00"),
        plan_item("MSFT", "BUY", "1000.00"),
    )

    result = invoke(handler, event)

    brk = the_order(result, "BRK.B")
    assert brk["status"] == "SKIPPED"
    assert brk["reason"].startswith("rounds_to_zero: 400.00 buys less than one whole share at ")
    assert brk["child_orders"] == []
    assert the_order(result, "MSFT")["status"] == "FILLED"
    assert result["status"] == "SUCCESS_WITH_SKIPS", result["reason"]
    assert [o for o in sim.orders() if o["symbol"] == "BRK.B"] == []
    assert published_order(aws_stack, "BRK.B")["reason"] == brk["reason"]


@pytest.mark.parametrize("sim", ["500.00"], indirect=True)
def test_a_buy_reduced_pro_rata_below_one_share_is_skipped_rounds_to_zero(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    # $500 cash, 3 % held back for the collar: 485.00 for a $900 BRK.B buy at about $497.80.
    event = plan_event("endings-brk-reduced", plan_item("BRK.B", "BUY", "900.00"))

    result = invoke(handler, event)

    brk = the_order(result, "BRK.B")
    assert brk["status"] == "SKIPPED"
    assert brk["reason"].startswith("rounds_to_zero: 485.00 buys less than one whole share at ")
    assert "reduced to 485.00 of 900.00 (reduced_pro_rata)" in brk["reason"]
    assert result["status"] == "SUCCESS_WITH_SKIPS", result["reason"]
    assert sim.order_posts() == []


# --- item 4: a sell above the holding says it was capped ---------------------------------


def test_a_sell_larger_than_the_holding_is_capped_at_the_position_and_says_so(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    held = Decimal(sim.positions()["AAPL"])  # 22.5 in the default scenario
    event = plan_event("endings-aapl-capped", plan_item("AAPL", "SELL", "20000.00"))

    result = invoke(handler, event)

    aapl = the_order(result, "AAPL")
    assert aapl["status"] == "FILLED"
    assert Decimal(aapl["filled_qty"]) == held
    assert "AAPL" not in sim.positions()
    assert aapl["planned_notional"] == "20000.00"
    assert Decimal(aapl["filled_notional"]) < Decimal(aapl["planned_notional"])
    assert aapl["reason"].startswith(f"capped_at_position: sized to the {held} shares held; ")
    assert "the 20000.00 to sell is " in aapl["reason"]
    assert result["status"] == "SUCCESS", result["reason"]
    assert published_order(aws_stack, "AAPL")["reason"] == aapl["reason"]


# --- item 5: a filled item's reason is about its final state -----------------------------


def test_a_market_order_filled_after_its_wait_leaves_no_unfilled_reason_on_a_filled_item(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    # Slow fills: nothing the walk rests fills by itself, and the market order is still
    # working when its 2 s wait runs out; the fill then wins the race with its cancel.
    sim.call(lambda server: server.faults.delay_acks(0, NEVER_S))
    arm_race_on_the_first_market_order(sim, "GOOGL")
    event = plan_event("endings-googl-late-market-fill", plan_item("GOOGL", "BUY", "2000.00"))

    result = invoke(handler, event)

    googl = the_order(result, "GOOGL")
    assert googl["market_fallback"] is True
    market = googl["child_orders"][-1]
    assert (market["order_type"], market["status"]) == ("market", "filled")
    assert googl["status"] == "FILLED"
    assert googl["reason"] is None
    assert result["status"] == "SUCCESS", result["reason"]
    assert published_order(aws_stack, "GOOGL")["reason"] is None


def test_an_item_filled_by_the_deadlines_cancel_does_not_say_the_deadline_came(
    handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # URGENT's one step is a limit through the far touch, not followed within its step: it
    # rests (600 s) until the deadline's cleanup cancels it, and that cancel loses to a fill.
    monkeypatch.setenv("STEP_WAIT_SECONDS", "600")
    sim.call(lambda server: server.faults.delay_acks(0, NEVER_S))
    sim.call(lambda server: server.faults.race_fill_on_next_cancel("GOOGL"))
    event = plan_event("endings-googl-deadline-fill", plan_item("GOOGL", "BUY", "2000.00"))
    event["detail"]["rebalance_plan"]["execution_urgency"] = "URGENT"
    margin_s = 1.0
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", str(margin_s))
    cleanup_s = ExecutionSettings().cleanup_budget.total_seconds()
    context = LambdaContextStub(remaining_s=margin_s + cleanup_s + DEADLINE_BUDGET_S)

    result = invoke(handler, event, context)

    assert result["status"] == "TIMED_OUT"
    googl = the_order(result, "GOOGL")
    [limit] = googl["child_orders"]
    assert limit["status"] == "filled", "the cleanup's cancel lost to a fill"
    assert googl["status"] == "FILLED"
    assert googl["reason"] is None
    assert sim.orders(status="open") == []
    assert published_order(aws_stack, "GOOGL")["reason"] is None


def test_a_buy_an_earlier_attempt_filled_says_so_not_below_min_notional(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = plan_event("endings-msft-after-crash", plan_item("MSFT", "BUY", "2500.00"))
    plan = parse_rebalance_event(event).detail.rebalance_plan
    earlier_id = client_order_id(short_plan_hash(plan_fingerprint(plan)), "MSFT", Side.BUY, 1)

    def earlier_attempt(server: SimServer) -> dict[str, Any]:
        """What an attempt that crashed after its buy filled leaves at the broker: its order,
        filled to within 50 cents of the plan (a market buy fills at the ask, held still so a
        paper partial fill's rest fills at the same price)."""
        [quote] = server.venue.latest_quotes(["MSFT"])["quotes"].values()
        server.venue.script_quote("MSFT", bid=str(quote["bp"]), ask=str(quote["ap"]))
        qty = ((Decimal("2500.00") - Decimal("0.50")) / Decimal(str(quote["ap"]))).quantize(
            Decimal("1e-9"), rounding=ROUND_DOWN
        )
        body = {"symbol": "MSFT", "qty": str(qty), "side": "buy", "type": "market"}
        order: dict[str, Any] = server.venue.submit_order(
            {**body, "time_in_force": "day", "client_order_id": earlier_id}
        )
        return order

    placed = sim.call(earlier_attempt)
    assert placed["client_order_id"] == earlier_id
    sim.wait_filled(str(placed["id"]))  # the attempt crashed after its buy filled

    result = invoke(handler, event)

    msft = the_order(result, "MSFT")
    assert [child["client_order_id"] for child in msft["child_orders"]] == [earlier_id]
    assert sim.order_posts() == [], "the retry sent nothing"
    left = Decimal("2500.00") - Decimal(msft["filled_notional"])
    assert Decimal(0) < left < Decimal(1), "the earlier fill left less than the minimum"
    assert msft["status"] == "FILLED"
    assert msft["reason"] == "completed by an earlier attempt"
    assert result["status"] == "SUCCESS", result["reason"]


# --- item 9: money in the result is rounded; the ledger keeps the exact fills -------------


def test_a_sub_dollar_stocks_result_gives_cents_and_ticks_while_the_ledger_keeps_exact_fills(
    handler: ModuleType, sim: SimThread, aws_stack: AwsStack
) -> None:
    event = plan_event("endings-pnny-rounding", plan_item("PNNY", "BUY", "2250.00"))

    result = invoke(handler, event)

    pnny = the_order(result, "PNNY")
    assert Decimal(pnny["filled_qty"]) > 0
    assert CENTS.fullmatch(pnny["filled_notional"]), pnny["filled_notional"]
    assert SUB_DOLLAR_TICK.fullmatch(pnny["avg_fill_price"]), pnny["avg_fill_price"]
    for child in pnny["child_orders"]:
        assert child["avg_fill_price"] is None or SUB_DOLLAR_TICK.fullmatch(child["avg_fill_price"])
    summary = result["summary"]
    assert summary["filled_buy_notional"] == pnny["filled_notional"], "the sum of rounded items"
    assert CENTS.fullmatch(summary["planned_buy_notional"])

    lines = [line for line in ledger_order_lines(aws_stack, result) if line.filled_qty > 0]
    assert lines
    assert all(line.avg_fill_price is not None for line in lines)
    # The item's notional is each order's filled quantity at the broker's average for it.
    exact_notional = sum(
        (line.filled_qty * (line.avg_fill_price or 0) for line in lines), Decimal(0)
    )
    exact_qty = sum((line.filled_qty for line in lines), Decimal(0))
    assert exact_notional != exact_notional.quantize(Decimal("0.01")), "exact fills, not cents"
    assert Decimal(pnny["filled_notional"]) == exact_notional.quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN
    )
    exact_avg = exact_notional / exact_qty
    assert Decimal(pnny["avg_fill_price"]) == exact_avg.quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_EVEN
    )
    sim_avgs = {o["client_order_id"]: o["filled_avg_price"] for o in sim.orders()}
    for line in lines:
        if line.avg_fill_price is not None:
            assert line.avg_fill_price == Decimal(str(sim_avgs[line.client_order_id]))

    [published] = aws_stack.result_events(expected=1)
    text = json.dumps(published["detail"])
    assert str(exact_notional) not in text
    assert published["detail"]["orders"][0]["filled_notional"] == pnny["filled_notional"]
