"""`plan-executor replay` end to end: the real handler in its own process, moto over HTTP,
alpaca_sim over HTTP and websocket; what it prints is checked against what the stack holds."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from replay_support import options

from plan_executor.domain.enums import ExecutionStatus
from plan_executor.local.local_stack import local_stack
from plan_executor.local.readback import take_result_events
from plan_executor.local.replay import prepare, replay, replay_on

MIXED = "mixed-sell-and-buy.json"
_ORDERS_SENT = re.compile(r"orders sent: (\d+)")
_LEDGER_LINE = re.compile(r"s3://([a-z0-9.-]+)/(\S+)\s+\(([\d,]+) bytes\)")


@dataclass(frozen=True)
class Observed:
    """A replay of the mixed plan twice, and what the stack held before it was stopped."""

    status: int
    output: str
    sim_orders: int
    bucket: str
    ledger_keys: set[str]
    ledger_result: dict[str, Any]
    idempotency_items: list[dict[str, Any]]
    results_left_in_queue: int
    sim_secret: str


@pytest.fixture(scope="module")
def mixed_twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    replay_options = options(MIXED, tmp_path_factory.mktemp("replay"), times=2)
    prepared = prepare(replay_options, os.environ, datetime.now(UTC))
    out = io.StringIO()
    with local_stack(prepared.stack_options(seed=0)) as stack:
        status = replay_on(stack, prepared, replay_options, out=out, environ=os.environ)
        assert stack.sim is not None
        assert stack.sim.endpoints is not None
        aws = stack.aws
        keys = _bucket_keys(aws.client("s3"), aws.ledger_bucket)
        result_key = next(key for key in keys if key.endswith("result.json"))
        body = aws.client("s3").get_object(Bucket=aws.ledger_bucket, Key=result_key)["Body"]
        yield Observed(
            status=status,
            output=out.getvalue(),
            sim_orders=stack.sim.order_submissions(),
            bucket=aws.ledger_bucket,
            ledger_keys=keys,
            ledger_result=json.loads(body.read()),
            idempotency_items=aws.client("dynamodb").scan(TableName=aws.idempotency_table)["Items"],
            results_left_in_queue=len(take_result_events(aws, at_least=0, timeout_s=0)),
            sim_secret=stack.sim.endpoints.secret_key,
        )


def test_the_replay_succeeds_and_says_so(mixed_twice: Observed) -> None:
    assert mixed_twice.status == 0, mixed_twice.output
    assert "replay OK" in mixed_twice.output
    assert "replayed as if published now" in mixed_twice.output


def test_the_summary_table_has_every_item_and_the_totals(mixed_twice: Observed) -> None:
    run_1 = _run_section(mixed_twice.output, 1)
    header = next(line for line in run_1.splitlines() if "SYMBOL" in line)
    for column in ("SIDE", "PLANNED", "FILLED", "AVG PRICE", "SLIP bps", "RE-PEGS", "STATUS"):
        assert column in header
    rows = {line.split()[0]: line.split() for line in run_1.splitlines() if line[:2] == "  "}
    for symbol in ("AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "SPY", "BRK.B", "TSLA"):
        assert symbol in rows
    assert rows["AAPL"][1] == "SELL"
    assert rows["MSFT"][1] == "BUY"
    assert rows["AMZN"][-1] == "SKIPPED"
    assert "8 items:" in run_1
    assert "implementation shortfall" in run_1


def test_the_result_event_is_read_back_from_the_queue(mixed_twice: Observed) -> None:
    run_1 = _run_section(mixed_twice.output, 1)
    assert "result event (read back from the results queue, 1 new)" in run_1
    event_id = mixed_twice.ledger_result["event_id"]
    assert f'"event_id": "{event_id}"' in run_1
    assert '"detail-type": "ExecutionResult"' in run_1
    assert mixed_twice.results_left_in_queue == 0


def test_the_printed_ledger_keys_exist_in_the_bucket(mixed_twice: Observed) -> None:
    printed = _LEDGER_LINE.findall(mixed_twice.output)
    assert {key.rsplit("/", 1)[-1] for _, key, _ in printed} == {"result.json", "orders.jsonl"}
    for bucket, key, _ in printed:
        assert bucket == mixed_twice.bucket
        assert key in mixed_twice.ledger_keys
    assert set(mixed_twice.ledger_result["ledger"]["keys"]) == {key for _, key, _ in printed}


def test_every_order_the_sim_saw_came_from_the_first_run(mixed_twice: Observed) -> None:
    sent = [int(n) for n in _ORDERS_SENT.findall(mixed_twice.output)]
    placed = sum(len(order["child_orders"]) for order in mixed_twice.ledger_result["orders"])
    assert sent == [placed]
    assert mixed_twice.sim_orders == placed > 0


def test_the_second_run_is_served_from_the_idempotency_table(mixed_twice: Observed) -> None:
    run_2 = _run_section(mixed_twice.output, 2)
    assert "DUPLICATE: served from the idempotency table" in run_2
    assert "new orders at the broker: 0" in run_2
    assert "new result events in the queue: 0" in run_2
    assert "new ledger objects: 0" in run_2
    assert "DuplicatesServed 1" in run_2
    assert mixed_twice.ledger_result["event_id"] in run_2
    assert len(mixed_twice.idempotency_items) == 1
    assert mixed_twice.idempotency_items[0]["status"]["S"] == "COMPLETED"


def test_no_secret_is_printed(mixed_twice: Observed) -> None:
    assert mixed_twice.sim_secret not in mixed_twice.output


def test_a_rejected_event_prints_rejected_with_the_field(tmp_path: Path) -> None:
    out = io.StringIO()
    status = replay(options("rejected-wrong-sign.json", tmp_path), out=out, environ=os.environ)
    text = out.getvalue()
    assert status == 0, text
    assert "REJECTED" in text
    assert "detail.rebalance_plan.items[2].trade_amount: sign_agrees_with_action" in text
    assert "the sim answered 0 POST /v2/orders" in text


def test_a_stale_plan_stays_stale_after_its_times_are_moved(tmp_path: Path) -> None:
    out = io.StringIO()
    status = replay(options("rejected-stale-plan.json", tmp_path), out=out, environ=os.environ)
    text = out.getvalue()
    assert status == 0, text
    assert "REJECTED" in text
    assert "detail.rebalance_plan.timestamp: max_plan_age (plan is 3h25m" in text


def test_expect_fails_the_replay_when_the_status_differs(tmp_path: Path) -> None:
    out = io.StringIO()
    replay_options = options(
        "rejected-schema-v2.json", tmp_path, expect=frozenset({ExecutionStatus.SUCCESS})
    )
    status = replay(replay_options, out=out, environ=os.environ)
    assert status == 1
    assert "run 1 ended REJECTED; --expect asked for SUCCESS" in out.getvalue()


def _run_section(output: str, number: int) -> str:
    start = output.index(f"== run {number} of")
    end = output.find("\n== ", start + 1)
    return output[start : end if end != -1 else len(output)]


def _bucket_keys(s3: Any, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
