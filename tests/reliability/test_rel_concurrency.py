"""One account, one plan at a time. In AWS the function has reserved concurrency 1 (asserted
against template.yaml here): Lambda queues events that arrive together and runs them one after
another in one execution environment. `ReservedConcurrencyOne` is that queue, locally: events
are delivered from many threads at once, and one worker runs the real handler on each in turn.

What must hold under it: executions never overlap (by the worker's clock and by the broker's
request log), each plan's orders at the broker are exactly its own and match its result, every
plan gets its own result, published event and ledger, duplicates in the queue are served the
stored result, and the account moves by exactly the sum of what the plans report.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hostile_support import ServiceRig, base_event, service_rig
from tests.deploy.cfn_template import load_template
from tests.integration.service.service_support import child_orders, with_items
from tests.support.aws_stack import LocalMotoServer

from plan_executor.domain.order_ids import PLAN_HASH_LENGTH

DELIVERY_TIMEOUT_S = 10.0
RUN_TIMEOUT_S = 120.0
PLANS = {  # plan id -> the saved mixed plan's items it keeps; MSFT is in two plans
    "acct-plan-a": ("AAPL", "MSFT"),
    "acct-plan-b": ("NVDA", "SPY"),
    "acct-plan-c": ("TSLA", "GOOGL"),
    "acct-plan-d": ("MSFT", "BRK.B"),
}
DUPLICATED = ("acct-plan-a", "acct-plan-c")


@dataclass(frozen=True)
class Span:
    plan_id: str
    started: float
    ended: float


class ReservedConcurrencyOne:
    """Lambda's async queue in front of a function with reserved concurrency 1."""

    def __init__(self, rig: ServiceRig) -> None:
        self._rig = rig
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")
        self._requests = itertools.count(1)
        self.spans: list[Span] = []

    def deliver(self, event: dict[str, Any]) -> Future[dict[str, Any]]:
        return self._worker.submit(self._run, event, f"request-{next(self._requests)}")

    def _run(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        started = time.monotonic()
        try:
            return self._rig.invoke(event, request_id=request_id)
        finally:
            plan_id = event["detail"]["rebalance_plan"]["plan_id"]
            self.spans.append(Span(plan_id, started, time.monotonic()))

    def close(self) -> None:
        self._worker.shutdown(wait=True)


def deliver_at_once(
    queue: ReservedConcurrencyOne, events: list[dict[str, Any]]
) -> list[Future[dict[str, Any]]]:
    """Every event from its own thread, all released together (EventBridge fan-in)."""
    start = threading.Barrier(len(events))

    def send(event: dict[str, Any]) -> Future[dict[str, Any]]:
        start.wait(DELIVERY_TIMEOUT_S)
        return queue.deliver(event)

    with ThreadPoolExecutor(max_workers=len(events)) as senders:
        return list(senders.map(send, events))


@dataclass
class Outcome:
    results: dict[str, dict[str, Any]]
    duplicates: dict[str, dict[str, Any]]
    spans: list[Span]
    posted_ids: list[str]
    sim_orders: list[dict[str, Any]]
    positions_before: dict[str, str]
    positions_after: dict[str, str]
    published: list[dict[str, Any]]


@pytest.fixture(scope="module")
def outcome(moto_server: LocalMotoServer) -> Iterator[Outcome]:
    with service_rig(moto_server, "one-at-a-time") as rig:
        now = datetime.now(UTC)
        events = {
            plan_id: with_items(base_event("unused", now), plan_id, *symbols)
            for plan_id, symbols in PLANS.items()
        }
        deliveries = [*events.values(), *(events[plan_id] for plan_id in DUPLICATED)]
        positions_before = rig.sim.positions()
        queue = ReservedConcurrencyOne(rig)
        try:
            futures = deliver_at_once(queue, deliveries)
            answers = [future.result(RUN_TIMEOUT_S) for future in futures]
        finally:
            queue.close()
        results, duplicates = _first_and_repeat(answers)
        yield Outcome(
            results=results,
            duplicates=duplicates,
            spans=sorted(queue.spans, key=lambda span: span.started),
            posted_ids=rig.sim.posted_ids(),
            sim_orders=rig.sim.orders(),
            positions_before=positions_before,
            positions_after=rig.sim.positions(),
            published=rig.stack.result_events(expected=len(PLANS)),
        )


def _first_and_repeat(
    answers: list[dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The answers by plan id: the execution, and (for a duplicate) the second answer. Which
    of two identical deliveries ran first is the queue's business, so they are not told apart
    by position."""
    results: dict[str, dict[str, Any]] = {}
    duplicates: dict[str, dict[str, Any]] = {}
    for answer in answers:
        target = duplicates if answer["plan_id"] in results else results
        target[answer["plan_id"]] = answer
    return results, duplicates


def plan_hash(result: dict[str, Any]) -> str:
    hashes = {cid[:PLAN_HASH_LENGTH] for cid in _child_ids(result)}
    assert len(hashes) == 1, hashes
    return hashes.pop()


def _child_ids(result: dict[str, Any]) -> list[str]:
    return [str(child["client_order_id"]) for child in child_orders(result)]


def test_the_function_is_deployed_with_reserved_concurrency_one() -> None:
    resources = load_template()["Resources"]
    functions = {
        name: r["Properties"]["ReservedConcurrentExecutions"]
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }

    # The sweeper never trades: it only cleans up after a dead execution, under its plan's lock.
    assert functions == {"ExecutorFunction": 1, "SweeperFunction": 1}


def test_plans_delivered_at_once_execute_one_after_another(outcome: Outcome) -> None:
    spans = outcome.spans

    assert len(spans) == len(PLANS) + len(DUPLICATED)
    for earlier, later in itertools.pairwise(spans):
        assert later.started >= earlier.ended, (earlier, later)


def test_the_broker_saw_each_plans_orders_as_one_uninterrupted_run(outcome: Outcome) -> None:
    hashes_in_order = [cid[:PLAN_HASH_LENGTH] for cid in outcome.posted_ids]
    runs = [key for key, _ in itertools.groupby(hashes_in_order)]

    assert len(runs) == len(set(runs)) == len(PLANS), runs


def test_each_plan_succeeds_with_exactly_its_own_orders(outcome: Outcome) -> None:
    posted_by_plan: dict[str, list[str]] = defaultdict(list)
    for cid in outcome.posted_ids:
        posted_by_plan[cid[:PLAN_HASH_LENGTH]].append(cid)

    assert set(outcome.results) == set(PLANS)
    for plan_id, result in outcome.results.items():
        assert result["status"] == "SUCCESS", (plan_id, result["reason"])
        assert sorted(order["symbol"] for order in result["orders"]) == sorted(PLANS[plan_id])
        assert sorted(posted_by_plan[plan_hash(result)]) == sorted(_child_ids(result))
        for order in result["orders"]:
            side = "b" if order["action"] == "BUY" else "s"
            encoded = order["symbol"].replace("/", "_")
            for child in order["child_orders"]:
                assert child["client_order_id"].split("-")[1:3] == [encoded, side]


def test_each_result_matches_the_broker_fill_for_fill(outcome: Outcome) -> None:
    at_broker = {order["client_order_id"]: order for order in outcome.sim_orders}

    for result in outcome.results.values():
        for child in child_orders(result):
            broker = at_broker[child["client_order_id"]]
            assert child["broker_order_id"] == broker["id"]
            assert Decimal(child["filled_qty"]) == Decimal(broker["filled_qty"])
            assert child["status"] == broker["status"]


def test_each_plan_has_its_own_result_event_and_ledger(outcome: Outcome) -> None:
    results = list(outcome.results.values())
    ledger_keys = [key for result in results for key in result["ledger"]["keys"]]

    assert len({result["event_id"] for result in results}) == len(PLANS)
    assert len(set(ledger_keys)) == len(ledger_keys) == 2 * len(PLANS)
    for result in results:
        assert all(f"/plan_id={result['plan_id']}/" in key for key in result["ledger"]["keys"])
    published = {event["detail"]["plan_id"]: event["detail"] for event in outcome.published}
    assert published.keys() == outcome.results.keys()
    for plan_id, detail in published.items():
        assert detail["event_id"] == outcome.results[plan_id]["event_id"]


def test_a_duplicate_in_the_queue_gets_the_stored_result(outcome: Outcome) -> None:
    assert outcome.duplicates.keys() == set(DUPLICATED)
    for plan_id, duplicate in outcome.duplicates.items():
        assert duplicate == outcome.results[plan_id]


def test_the_account_moved_by_exactly_what_the_plans_report(outcome: Outcome) -> None:
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for result in outcome.results.values():
        for order in result["orders"]:
            signed = Decimal(order["filled_qty"])
            moved[order["symbol"]] += signed if order["action"] == "BUY" else -signed

    for symbol, change in moved.items():
        before = Decimal(outcome.positions_before.get(symbol, "0"))
        after = Decimal(outcome.positions_after.get(symbol, "0"))
        assert after - before == change, symbol
    untouched = set(outcome.positions_before) - set(moved)
    assert {s: outcome.positions_after.get(s) for s in untouched} == {
        s: outcome.positions_before[s] for s in untouched
    }
