"""The named history queries answer from a ledger written by real runs: the handler, moto in
server mode and alpaca_sim ran four plans (one that traded, one the broker refused, one
rejected, one that timed out); each query's answer is checked against what those runs wrote,
read back independently through the ledger models."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import pytest
from service_deadline import invoke_until_timed_out
from service_support import (
    SimThread,
    current_event,
    fresh_handler,
    invoke,
    service_env,
    service_scenario,
    with_items,
)
from tests.support.aws_stack import AwsStack, LocalMotoServer, create_stack

from plan_executor import cli
from plan_executor.domain.enums import Side
from plan_executor.domain.ledger import (
    LedgerCancellationLine,
    LedgerOrderLine,
    parse_ledger_line,
)
from plan_executor.domain.results import ExecutionResult
from plan_executor.engine.config import ExecutionSettings
from plan_executor.ops.history_local import Answer, copy_ledger, history_database, run_query
from plan_executor.ops.history_queries import named_query

FAILING_SYMBOL, HALTED_SYMBOL = "JNJ", "GOOGL"
MARGIN_S = 1.0
CENT, SHARE_PLACES, PRICE_PLACES = Decimal("0.01"), Decimal("1e-9"), Decimal("1e-10")
K = TypeVar("K")


@dataclass(frozen=True)
class Ledger:
    stack: AwsStack
    results: tuple[ExecutionResult, ...]
    """In the order the runs were made."""
    lines: dict[str, list[LedgerOrderLine | LedgerCancellationLine]]
    """orders.jsonl lines by attempt, as the ledger models read them."""

    def result(self, plan_id: str) -> ExecutionResult:
        [found] = [result for result in self.results if result.plan_id == plan_id]
        return found

    def filled_order_lines(self) -> list[tuple[date, LedgerOrderLine]]:
        return [
            (result.started_at.astimezone(UTC).date(), line)
            for result in self.results
            for line in self.lines[result.attempt]
            if isinstance(line, LedgerOrderLine) and line.filled_qty > 0
        ]


@pytest.fixture(scope="module")
def ledger(moto_server: LocalMotoServer) -> Iterator[Ledger]:
    with (
        SimThread(service_scenario(datetime.now(UTC))) as sim,
        pytest.MonkeyPatch.context() as patch,
    ):
        stack = create_stack(moto_server.endpoint_url, name_prefix=f"pe-history-{os.getpid()}")
        for name, value in service_env(stack, sim).items():
            patch.setenv(name, value)
        results = [
            _traded(),
            _refused_by_the_broker(sim),
            _rejected(),
            _timed_out(sim, patch),
        ]
        yield Ledger(stack, tuple(results), {r.attempt: _lines(stack, r) for r in results})


def _traded() -> ExecutionResult:
    return ExecutionResult.model_validate(
        invoke(fresh_handler(), current_event("mixed-sell-and-buy.json"))
    )


def _one_item_plan(plan_id: str, symbol: str) -> dict[str, Any]:
    """A buys-only plan of its own workflow (a second plan of one workflow is rejected)."""
    event = with_items(current_event("buys-only.json"), plan_id, symbol)
    correlation_id = f"{plan_id}-workflow"
    event["detail"]["correlation_id"] = correlation_id
    event["detail"]["rebalance_plan"]["correlation_id"] = correlation_id
    return event


def _refused_by_the_broker(sim: SimThread) -> ExecutionResult:
    sim.call(lambda server: server.faults.reject_next_order(403, 40310000, "account blocked"))
    event = _one_item_plan("history-refused-1", FAILING_SYMBOL)
    return ExecutionResult.model_validate(invoke(fresh_handler(), event))


def _rejected() -> ExecutionResult:
    return ExecutionResult.model_validate(
        invoke(fresh_handler(), current_event("rejected-wrong-sign.json"))
    )


def _timed_out(sim: SimThread, patch: pytest.MonkeyPatch) -> ExecutionResult:
    """Its deadline comes once its order is working (service_deadline), whatever the load."""
    sim.call(lambda server: server.faults.halt(HALTED_SYMBOL))
    event = _one_item_plan("history-deadline-1", HALTED_SYMBOL)
    cleanup_s = ExecutionSettings().cleanup_budget.total_seconds()
    result, _ = invoke_until_timed_out(
        fresh_handler(), event, patch, margin_s=MARGIN_S, cleanup_s=cleanup_s
    )
    return ExecutionResult.model_validate(result)


def _lines(
    stack: AwsStack, result: ExecutionResult
) -> list[LedgerOrderLine | LedgerCancellationLine]:
    assert result.ledger is not None, f"{result.plan_id} wrote no ledger"
    [key] = [key for key in result.ledger.keys if key.endswith("orders.jsonl")]
    body = stack.client("s3").get_object(Bucket=stack.ledger_bucket, Key=key)["Body"].read()
    return [parse_ledger_line(line) for line in body.decode().splitlines()]


def _answer(
    ledger: Ledger, name: str, tmp_path_factory: pytest.TempPathFactory, limit: int | None = None
) -> Answer:
    directory = tmp_path_factory.mktemp(name)
    copy_ledger(ledger.stack.client("s3"), ledger.stack.ledger_bucket, directory)
    with history_database(directory) as database:
        return run_query(database, named_query(name), limit)


def test_the_runs_ended_as_the_queries_expect(ledger: Ledger) -> None:
    statuses = [result.status.value for result in ledger.results]
    outcomes = [(result.plan_id, result.status.value, result.reason) for result in ledger.results]
    assert statuses[1:] == ["FAILURE", "REJECTED", "TIMED_OUT"], outcomes
    assert statuses[0] in {"SUCCESS", "SUCCESS_WITH_SKIPS", "PARTIAL_SUCCESS"}
    assert ledger.filled_order_lines(), "the first plan traded"


def test_last_plans_lists_every_attempt_newest_first_with_status_and_shortfall(
    ledger: Ledger, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = _answer(ledger, "last_plans", tmp_path_factory).records()

    newest_first = sorted(ledger.results, key=lambda r: r.started_at, reverse=True)
    assert [row["plan_id"] for row in rows] == [r.plan_id for r in newest_first]
    for row in rows:
        result = ledger.result(row["plan_id"])
        assert (row["attempt"], row["status"]) == (result.attempt, result.status.value)
        assert row["items"] == result.summary.items
        bought = result.summary.filled_buy_notional.quantize(PRICE_PLACES, ROUND_HALF_UP)
        assert row["bought"] == bought
        shortfall = result.summary.implementation_shortfall_bps
        expected = None if shortfall is None else shortfall.quantize(PRICE_PLACES, ROUND_HALF_UP)
        assert row["shortfall_bps"] == expected
    assert ledger.result(rows[-1]["plan_id"]).summary.implementation_shortfall_bps is not None

    latest_two = _answer(ledger, "last_plans", tmp_path_factory, limit=2).records()
    assert [row["plan_id"] for row in latest_two] == [r.plan_id for r in newest_first[:2]]


def test_orders_per_plan_counts_each_plans_orders_fills_and_cancellations(
    ledger: Ledger, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = _answer(ledger, "orders_per_plan", tmp_path_factory).records()

    assert len(rows) == len(ledger.results)
    for row in rows:
        result = ledger.result(row["plan_id"])
        children = [child for item in result.orders for child in item.child_orders]
        lines = ledger.lines[result.attempt]
        assert row["orders"] == len(children), result.plan_id
        assert row["orders_filled"] == sum(1 for child in children if child.filled_qty > 0)
        cancels = sum(1 for line in lines if isinstance(line, LedgerCancellationLine))
        assert row["cancellations"] == cancels, result.plan_id
    by_status = {row["status"]: row for row in rows}
    assert (by_status["REJECTED"]["orders"], by_status["REJECTED"]["cancellations"]) == (0, 0)
    assert by_status["TIMED_OUT"]["cancellations"] >= 1, "the deadline cancelled its order"
    assert by_status["FAILURE"]["orders"] >= 1
    assert by_status["FAILURE"]["orders_filled"] == 0


def test_failed_or_timed_out_names_exactly_those_plans_with_their_reason(
    ledger: Ledger, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = _answer(ledger, "failed_or_timed_out", tmp_path_factory).records()

    assert [(row["plan_id"], row["status"]) for row in rows] == [
        ("history-deadline-1", "TIMED_OUT"),
        ("history-refused-1", "FAILURE"),
    ]
    for row in rows:
        assert row["reason"] == ledger.result(row["plan_id"]).reason


def _rounded(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


@dataclass
class Totals:
    """Filled child orders added up as the cost queries add them."""

    bought: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    count: int = 0

    @property
    def notional(self) -> Decimal:
        return self.bought + self.sold

    def add(self, line: LedgerOrderLine) -> None:
        """On the values as the columns hold them (shares to 9 places, prices to 10)."""
        assert line.avg_fill_price is not None
        assert line.arrival_quote is not None
        qty = line.filled_qty.quantize(SHARE_PLACES, ROUND_HALF_UP)
        price = line.avg_fill_price.quantize(PRICE_PLACES, ROUND_HALF_UP)
        mid = line.arrival_quote.mid.quantize(PRICE_PLACES, ROUND_HALF_UP)
        buy = line.side is Side.BUY
        self.bought += qty * price if buy else 0
        self.sold += 0 if buy else qty * price
        self.cost += qty * (price - mid if buy else mid - price)
        self.count += 1

    def assert_row(self, row: dict[str, object]) -> None:
        assert row["filled_orders"] == self.count
        assert row["cost"] == _rounded(self.cost)
        cost_bps = row["cost_bps"]
        assert isinstance(cost_bps, Decimal)
        # A ratio rounded to 2 places: its last digit may round either way of the exact value.
        assert abs(cost_bps - 10000 * self.cost / self.notional) <= CENT


def _totals_by(ledger: Ledger, key: Callable[[date, LedgerOrderLine], K]) -> dict[K, Totals]:
    totals: dict[K, Totals] = defaultdict(Totals)
    for day, line in ledger.filled_order_lines():
        totals[key(day, line)].add(line)
    return totals


def test_cost_by_symbol_adds_up_each_filled_order_against_its_arrival_mid(
    ledger: Ledger, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = _answer(ledger, "cost_by_symbol", tmp_path_factory).records()

    totals = _totals_by(ledger, lambda _, line: line.symbol)
    assert {row["symbol"] for row in rows} == set(totals)
    for row in rows:
        symbol = totals[str(row["symbol"])]
        assert (row["bought"], row["sold"]) == (_rounded(symbol.bought), _rounded(symbol.sold))
        symbol.assert_row(row)
    assert [row["cost"] for row in rows] == sorted((row["cost"] for row in rows), reverse=True)


def test_cost_by_day_adds_up_every_filled_order_of_the_day(
    ledger: Ledger, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = _answer(ledger, "cost_by_day", tmp_path_factory).records()

    totals = _totals_by(ledger, lambda day, _: day)
    assert [row["day"] for row in rows] == sorted(totals, reverse=True)
    for row in rows:
        assert isinstance(row["day"], date)
        day = totals[row["day"]]
        assert row["filled_notional"] == _rounded(day.notional)
        day.assert_row(row)


def test_the_history_command_prints_the_answers_from_the_bucket(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = ledger.stack.ledger_bucket
    assert os.environ["AWS_ENDPOINT_URL"] == ledger.stack.endpoint_url

    assert cli.main(["history", "--bucket", bucket, "--query", "failed_or_timed_out"]) == 0
    out = capsys.readouterr().out
    assert "history-deadline-1" in out
    assert "history-refused-1" in out
    assert ledger.results[0].plan_id not in out

    assert cli.main(["history", "--bucket", bucket, "--query", "last_plans", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "history-deadline-1" in out
    assert "history-refused-1" not in out

    assert cli.main(["history", "--bucket", bucket]) == 0
    out = capsys.readouterr().out
    for name in ("last_plans", "cost_by_day", "cost_by_symbol", "orders_per_plan"):
        assert f"== {name} " in out


def test_the_history_command_fails_on_a_bucket_without_a_ledger(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = f"{ledger.stack.ledger_bucket}-empty"
    ledger.stack.client("s3").create_bucket(Bucket=empty)

    assert cli.main(["history", "--bucket", empty]) == 1
    assert "no ledger objects" in capsys.readouterr().err
    assert cli.main(["history", "--bucket", f"{empty}-missing"]) == 1
    assert "cannot read the ledger" in capsys.readouterr().err
