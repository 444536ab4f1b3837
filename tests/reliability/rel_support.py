"""The world of the reliability suites: one moto server (fault layer plus hangs) and one
alpaca_sim shared by many runs, a fresh AWS stack and a reset sim per run, the small plan every
run executes, and readers for what each side holds afterwards.

The service side is the integration harness of tests/integration/service (service_support):
the real handler, its Lambda context stub and environment, reused as they are.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rel_aws_hangs import AwsHangLayer
from tests.integration.service.service_support import (
    SIM_SEED,
    SimThread,
    published_now,
    saved_event,
    service_env,
    service_scenario,
    with_items,
)
from tests.support.aws_faults import FaultInjector
from tests.support.aws_stack import FAKE_CREDENTIALS, AwsStack, create_stack

from plan_executor.adapters.failure_sink import DeadLetteredLedger, decode_dead_letter
from plan_executor.domain.ledger import LedgerOrderLine, parse_ledger_line
from plan_executor.local.aws_server import LocalMotoServer

PROGRESS_LOGGER = "plan_executor.progress"
HTTP_TIMEOUT_S = 0.5
"""The broker client's timeout in these runs: what a hung broker call costs."""
_TSLA_FULL_EXIT = {
    "symbol": "TSLA",
    "action": "SELL",
    "trade_amount": "-6046.60",
    "current_weight": "0.06",
    "target_weight": "0",
    "weight_diff": "-0.06",
    "current_value": "6046.60",
    "target_value": "0",
    "priority": 1,
    "strategy_id": "tecl",
}
_stack_numbers = itertools.count(1)


# --- servers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelAws:
    """moto in server mode with the tests' fault layer and a hang layer in front of it."""

    server: LocalMotoServer
    faults: FaultInjector
    hangs: AwsHangLayer

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def new_stack(self, label: str) -> AwsStack:
        """Fresh resources under a new prefix; fault rules and logs start empty."""
        prefix = f"rel-{os.getpid()}-{label}-{next(_stack_numbers)}"
        stack = create_stack(self.endpoint_url, name_prefix=prefix)
        self.clear()
        return stack

    def clear(self) -> None:
        self.hangs.release_all()
        self.faults.clear()


@contextlib.contextmanager
def running_aws() -> Iterator[RelAws]:
    faults, hangs = FaultInjector(), AwsHangLayer()
    server = LocalMotoServer(middleware=lambda app: hangs.wrap(faults.wrap(app)))
    server.start()
    try:
        yield RelAws(server, faults, hangs)
    finally:
        hangs.release_all()
        server.stop()


def aws_process_env() -> dict[str, str]:
    """What every AWS SDK in this process needs against moto (and nothing from the host)."""
    return {
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def reset_sim(sim: SimThread, *, seed: int = SIM_SEED) -> None:
    """The sim back to the service scenario, opening now: orders, faults, log, latency."""
    scenario = service_scenario(datetime.now(UTC))
    sim.call(lambda server: server.context.reset(scenario, seed=seed))


def function_env(stack: AwsStack, sim: SimThread, **overrides: str) -> dict[str, str]:
    """The service's environment for a run (short broker timeout, then `overrides`)."""
    return {
        **service_env(stack, sim),
        **aws_process_env(),
        "ALPACA_HTTP_TIMEOUT_SECONDS": str(HTTP_TIMEOUT_S),
        **overrides,
    }


# --- the plan --------------------------------------------------------------------------------


def small_plan_event(plan_id: str, now: datetime) -> dict[str, Any]:
    """Two sells (AAPL partly, TSLA a full exit) and two buys (MSFT fractional, BRK.B whole
    shares), published at `now`."""
    base = with_items(saved_event("mixed-sell-and-buy.json"), plan_id, "AAPL", "MSFT", "BRK.B")
    base["detail"]["rebalance_plan"]["items"].append(dict(_TSLA_FULL_EXIT))
    return published_now(base, now)


def plan_items(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = event["detail"]["rebalance_plan"]["items"]
    return items


# --- watching the service's own progress log -------------------------------------------------


class PhaseTap(logging.Filter):
    """Runs an action when the service logs that a phase started (its structured progress
    log), so a fault can be armed for that phase only. A filter on the logger survives the
    handler swap Powertools does at cold start."""

    def __init__(self, actions: Mapping[str, Callable[[], None]]) -> None:
        super().__init__()
        self._actions = dict(actions)
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "progress", None) == "phase_started":
            phase = str(getattr(record, "phase", ""))
            with self._lock:
                action = self._actions.pop(phase, None)
            if action is not None:
                action()
        return True

    @property
    def pending(self) -> list[str]:
        return sorted(self._actions)


@contextlib.contextmanager
def tapping_phases(tap: PhaseTap) -> Iterator[PhaseTap]:
    progress = logging.getLogger(PROGRESS_LOGGER)
    progress.addFilter(tap)
    try:
        yield tap
    finally:
        progress.removeFilter(tap)


# --- what the broker holds -------------------------------------------------------------------


@dataclass(frozen=True)
class SimTruth:
    """The sim's record after a run: every order with its fills, positions, the request log."""

    orders: list[dict[str, Any]]
    positions: dict[str, Decimal]
    requests: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    """Every trade update the venue published."""

    @classmethod
    def read(cls, sim: SimThread) -> SimTruth:
        state = sim.call(lambda server: server.venue.state())
        requests = sim.call(lambda server: server.context.log.entries())
        held = {str(p["symbol"]): Decimal(str(p["qty"])) for p in state["positions"]}
        return cls(list(state["orders"]), held, list(requests), list(state["trade_updates"]))

    def open_orders(self) -> list[dict[str, Any]]:
        closed = {"filled", "canceled", "expired", "rejected", "replaced", "done_for_day"}
        return [order for order in self.orders if order["status"] not in closed]

    def orders_for(self, symbol: str, side: str) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["symbol"] == symbol and o["side"] == side]

    def posts(self) -> list[dict[str, Any]]:
        return [e for e in self.requests if e["method"] == "POST" and e["path"] == "/v2/orders"]


def filled_qty(orders: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(str(order["filled_qty"])) for order in orders), Decimal(0))


def filled_notional(orders: list[dict[str, Any]]) -> Decimal:
    return sum(
        (Decimal(str(f["qty"])) * Decimal(str(f["price"])) for o in orders for f in o["fills"]),
        Decimal(0),
    )


# --- what AWS holds --------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerObjects:
    """Every attempt's ledger in the bucket: attempt -> orders.jsonl order lines, and the
    result.json documents."""

    order_lines: dict[str, list[LedgerOrderLine]]
    results: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, stack: AwsStack) -> LedgerObjects:
        s3 = stack.client("s3")
        listed = s3.list_objects_v2(Bucket=stack.ledger_bucket).get("Contents", [])
        order_lines: dict[str, list[LedgerOrderLine]] = {}
        results: dict[str, dict[str, Any]] = {}
        for entry in listed:
            key = str(entry["Key"])
            attempt = key.split("attempt=", 1)[1].split("/", 1)[0]
            body = s3.get_object(Bucket=stack.ledger_bucket, Key=key)["Body"].read().decode()
            if key.endswith("result.json"):
                results[attempt] = json.loads(body)
            else:
                lines = [parse_ledger_line(line) for line in body.splitlines()]
                order_lines[attempt] = [ln for ln in lines if isinstance(ln, LedgerOrderLine)]
        return cls(order_lines, results)


def dead_letters(stack: AwsStack) -> dict[str, DeadLetteredLedger]:
    """Ledgers in the DLQ, by attempt (each may span several messages); taken off the queue."""
    by_attempt: dict[str, list[str]] = {}
    for body in take_messages(stack, stack.dlq_url):
        by_attempt.setdefault(str(json.loads(body)["attempt"]), []).append(body)
    return {attempt: decode_dead_letter(bodies) for attempt, bodies in by_attempt.items()}


def result_events(stack: AwsStack) -> list[dict[str, Any]]:
    """Every ExecutionResult event the rule routed to the results queue since the last call
    (each is taken off the queue, so a later call never sees it again)."""
    return [json.loads(body) for body in take_messages(stack, stack.results_queue_url)]


def take_messages(stack: AwsStack, queue_url: str) -> list[str]:
    """The bodies of every message in the queue now, deleted once read."""
    messages = stack.receive_now(queue_url)
    sqs = stack.client("sqs")
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [str(message["Body"]) for message in messages]


def idempotency_records(stack: AwsStack) -> list[dict[str, Any]]:
    table = stack.client("dynamodb")
    items: list[dict[str, Any]] = table.scan(TableName=stack.idempotency_table)["Items"]
    return items
