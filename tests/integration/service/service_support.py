"""The Lambda service end to end: the real handler, moto in server mode, alpaca_sim over HTTP.

`SimThread` runs a SimServer on its own event loop in a background thread, because the handler
is synchronous and runs `asyncio.run` itself. The sim's clock follows wall time (speed 1) from
"now" and its market is open every day, so the service's own clock (the system clock: quote
ages, plan age) agrees with the broker's whenever the suite runs.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Self, TypeVar

from tests.support.aws_stack import TEST_ALPACA_SECRET, AwsStack

from alpaca_sim.scenario import ClockSpec, Scenario, scenario_from_dict
from alpaca_sim.server import SimServer
from alpaca_sim.session import SessionCalendar

REPO_ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = REPO_ROOT / "events"
SIM_SEED = 7
SIM_START_TIMEOUT_S = 10.0
SERVICE_NAME = "plan-executor-test"
METRICS_NAMESPACE = "PlanExecutor"
EMPTY_METRICS_WARNING = "ignore:No application metrics to publish:UserWarning"
"""Powertools warns when an invocation that raised recorded no metric (expected there)."""
LAMBDA_TIMEOUT_S = 60.0
"""Remaining time given to a run that is expected to finish on its own."""

T = TypeVar("T")


# --- the simulated broker ---------------------------------------------------------------


class _EveryDayCalendar(SessionCalendar):
    """One session per calendar day, midnight to midnight UTC: the market is always open."""

    def session_on(self, day: date) -> tuple[datetime, datetime] | None:
        opens = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return opens, opens + timedelta(days=1)


@dataclass(frozen=True)
class _EveryDayClock(ClockSpec):
    def calendar(self) -> SessionCalendar:
        return _EveryDayCalendar(self.session_open, self.session_close, self.display_offset)


def service_scenario(start: datetime) -> Scenario:
    """The default scenario, authenticated by the stack's secret, open now and always."""
    text = resources.files("alpaca_sim").joinpath("scenarios/default.json").read_text("utf-8")
    raw = json.loads(text)
    raw["auth"] = {
        "api_key": TEST_ALPACA_SECRET["key_id"],
        "api_secret": TEST_ALPACA_SECRET["secret_key"],
    }
    raw["clock"] = {**raw["clock"], "start": start.isoformat(), "holidays": []}
    # The rate budget is the adapter's business (tested there); here it would only slow runs.
    raw["rate_limit"] = {"enabled": False}
    scenario = scenario_from_dict(raw)
    return replace(scenario, clock=_EveryDayClock(**asdict(scenario.clock)))


class SimThread:
    """A SimServer on its own loop in a background thread; `call` runs code on that loop."""

    def __init__(self, scenario: Scenario, *, seed: int = SIM_SEED) -> None:
        self._scenario = scenario
        self._seed = seed
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alpaca-sim", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._server: SimServer | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(SIM_START_TIMEOUT_S):
            raise RuntimeError("alpaca_sim did not start")
        if self._error is not None:
            raise RuntimeError("alpaca_sim failed to start") from self._error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        self._thread.join(SIM_START_TIMEOUT_S)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the starting thread
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with SimServer(self._scenario, seed=self._seed, speed=1.0) as server:
            self._server = server
            self._ready.set()
            await self._stop.wait()

    @property
    def server(self) -> SimServer:
        if self._server is None:
            raise RuntimeError("alpaca_sim is not running")
        return self._server

    def call(self, action: Callable[[SimServer], T]) -> T:
        """Run `action(server)` on the sim's loop (its state is not thread-safe)."""
        if self._loop is None:
            raise RuntimeError("alpaca_sim is not running")

        async def run() -> T:
            return action(self.server)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(SIM_START_TIMEOUT_S)

    def wait_filled(self, order_id: str, timeout_s: float = SIM_START_TIMEOUT_S) -> None:
        """Wait until the order is filled: a paper partial fill leaves its rest to a later
        market step (a second of the sim's wall-clock time). `timeout_s` is a hang guard."""
        filled = threading.Event()

        def watch(server: SimServer) -> None:
            def on_update(update: Mapping[str, Any]) -> None:
                if update["event"] == "fill" and update["order"]["id"] == order_id:
                    filled.set()

            server.venue.subscribe(on_update)
            if server.venue.get_order(order_id)["status"] == "filled":
                filled.set()

        self.call(watch)
        if not filled.wait(timeout_s):
            raise AssertionError(f"order {order_id} did not fill within {timeout_s} s")

    def requests(self, method: str, path: str) -> list[dict[str, object]]:
        """The sim's request log entries for `method path`."""
        entries = self.call(lambda server: server.context.log.entries())
        return [e for e in entries if e["method"] == method and e["path"] == path]

    def order_posts(self) -> list[dict[str, object]]:
        return self.requests("POST", "/v2/orders")

    def posted_ids(self) -> list[str]:
        """The client_order_id of every order submission the sim received, in order."""
        return [str(entry.get("client_order_id")) for entry in self.order_posts()]

    def orders(self, status: str = "all") -> list[dict[str, Any]]:
        return self.call(lambda server: server.venue.list_orders(status=status, limit=500))

    def positions(self) -> dict[str, str]:
        listed = self.call(lambda server: server.venue.list_positions())
        return {str(position["symbol"]): str(position["qty"]) for position in listed}

    def env(self) -> dict[str, str]:
        server = self.server
        return {
            "ALPACA_TRADING_URL": server.trading_url,
            "ALPACA_DATA_URL": server.data_url,
            "ALPACA_STREAM_URL": server.stream_url,
        }


# --- events -----------------------------------------------------------------------------


def saved_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return loaded


def saved_event_names() -> list[str]:
    return sorted(path.name for path in EVENTS_DIR.glob("*.json"))


def current_event(name: str) -> dict[str, Any]:
    """A saved event as if published now."""
    return published_now(saved_event(name), datetime.now(UTC))


def with_items(event: Mapping[str, Any], plan_id: str, *symbols: str) -> dict[str, Any]:
    """`event` under another plan id, keeping only the items on `symbols`."""
    changed = copy.deepcopy(dict(event))
    plan = changed["detail"]["rebalance_plan"]
    plan["plan_id"] = plan_id
    plan["items"] = [item for item in plan["items"] if item["symbol"] in symbols]
    return changed


def published_now(event: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """`event` as if EventBridge delivered it at `now`: the envelope `time` becomes `now` and
    every other `timestamp` moves by the same offset (relative ages kept, naive stays naive)."""
    shifted = copy.deepcopy(dict(event))
    offset = now - _parse_time(str(shifted["time"]))
    shifted["time"] = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    _shift_timestamps(shifted["detail"], offset)
    return shifted


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _shift_timestamps(node: Any, offset: timedelta) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "timestamp" and isinstance(value, str):
                node[key] = (_parse_time(value) + offset).isoformat()
            else:
                _shift_timestamps(value, offset)
    elif isinstance(node, list):
        for value in node:
            _shift_timestamps(value, offset)


# --- the Lambda side --------------------------------------------------------------------


@dataclass
class LambdaContextStub:
    """What Powertools and the handler read from a Lambda context."""

    remaining_s: float = LAMBDA_TIMEOUT_S
    function_name: str = "plan-executor-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:plan-executor-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000001"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        left = self.remaining_s - (time.monotonic() - self._started)
        return max(int(left * 1000), 0)


def service_env(stack: AwsStack, sim: SimThread) -> dict[str, str]:
    """The function's environment for this stack and sim (names as template.yaml sets them)."""
    return {
        **stack.service_env(),
        "TRADING_MODE": "simulated",
        # The walk, the path live orders take (simulated runs are paper by default: one market
        # order per item, docs/design.md 2.9); test_service_ledger.py runs the paper default.
        "EXECUTION_VENUE": "live",
        "WALK_MIN_SPREAD_TICKS": "2",  # opted in: the walk
        **sim.env(),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "MAX_PLAN_AGE_SECONDS": "300",
        "DEADLINE_MARGIN_SECONDS": "1",
        "STEP_WAIT_SECONDS": "0.15",
        "MARKET_WAIT_SECONDS": "2",
        "ALPACA_HTTP_TIMEOUT_SECONDS": "3",
        "RATE_LIMIT_PER_MINUTE": "10000",
    }


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time (pytest swaps it between phases)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def fresh_handler() -> ModuleType:
    """The handler module as a new execution environment imports it: Powertools' Logger and
    Metrics read their environment (service, namespace) at import, so it is re-imported after
    the test set the environment. Its log handler writes to stdout, as in Lambda (capsys)."""
    module = importlib.reload(importlib.import_module("plan_executor.handler"))
    log_handler = module.logger.registered_handler
    if isinstance(log_handler, logging.StreamHandler):
        log_handler.setStream(_CurrentStdout())
    module.reset_cold_start()
    return module


def invoke(
    handler: ModuleType, event: Mapping[str, Any], context: LambdaContextStub | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = handler.lambda_handler(dict(event), context or LambdaContextStub())
    return result


def child_orders(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [child for order in result["orders"] for child in order["child_orders"]]


def child_ids(result: Mapping[str, Any]) -> list[str]:
    return [str(child["client_order_id"]) for child in child_orders(result)]


# --- what the service printed -----------------------------------------------------------


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line that is a JSON object (log lines and EMF blobs)."""
    parsed = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            value = json.loads(line)
            if isinstance(value, dict):
                parsed.append(value)
    return parsed


def emf_blobs(stdout: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(stdout) if "_aws" in line]


def log_records(stdout: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(stdout) if "_aws" not in line and "level" in line]


def metric_names(blob: Mapping[str, Any]) -> dict[str, str]:
    """Metric name -> namespace, over the blob's metric directives."""
    names = {}
    for directive in blob["_aws"]["CloudWatchMetrics"]:
        for metric in directive["Metrics"]:
            names[metric["Name"]] = directive["Namespace"]
    return names
