"""The engine wired to a SimServer through the real AlpacaBroker, plans, and fast settings.

Each `EngineHarness.run` is one invocation: a fresh adapter (HTTP sessions, threads, stream)
that is closed afterwards, so a second run of the same plan is a retry in a new process.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
for shared in (HERE.parent / "broker",):  # the adapter tests' helpers are reused as they are
    if str(shared) not in sys.path:
        sys.path.insert(0, str(shared))

from broker_helpers import CountingLimiter, config_for  # noqa: E402

from alpaca_sim.server import SimServer  # noqa: E402
from plan_executor.adapters.alpaca_broker import AlpacaBroker  # noqa: E402
from plan_executor.domain.enums import TradingMode, Venue  # noqa: E402
from plan_executor.domain.events import RebalancePlannedDetail, parse_rebalance_detail  # noqa: E402
from plan_executor.domain.ledger_keys import attempt_token  # noqa: E402
from plan_executor.domain.pricing import DEFAULT_PROFILES  # noqa: E402
from plan_executor.engine.config import ExecutionSettings, with_walk_durations  # noqa: E402
from plan_executor.engine.executor import run_plan  # noqa: E402
from plan_executor.engine.models import ExecutionDeps, ExecutionOutcome, ExecutionRequest  # noqa: E402
from plan_executor.engine.progress import ProgressEvent  # noqa: E402

EVENTS = REPO_ROOT / "events"
SEED = 11
PLAN_AGE = timedelta(seconds=2)
"""Plans are dated this long before the sim's start instant (every sim starts there)."""
BUDGET_S = 30.0
"""A generous deadline for runs that are expected to finish on their own."""
SCHEDULING_BOUND_S = 1.0
"""Slack on top of budget + cleanup for the event loop and the threads to wind down."""
CLOSE_BOUND_S = 10.0
"""Far above a stream close (milliseconds); only a close that never ends reaches it."""


def deadline_s(settings: ExecutionSettings, budget_s: float) -> float:
    """The latest a run may end: its budget, the cleanup budget, and the scheduling bound."""
    return budget_s + settings.cleanup_budget.total_seconds() + SCHEDULING_BOUND_S


Sleep = Callable[[float], Awaitable[None]]


class SimClockPort:
    """`ports.Clock` over the simulator's clock, so quote ages and plan age agree with it."""

    def __init__(self, sim: SimServer) -> None:
        self._sim = sim

    def now(self) -> datetime:
        return self._sim.venue.clock.now()


def fast_settings(
    *, step_wait_ms: int = 80, market_wait_ms: int = 2500, **overrides: Any
) -> ExecutionSettings:
    """Production settings with the waits shortened (the only way tests change durations),
    on the live venue: these suites exercise the walk, the path live orders take (the paper
    venue's path is tested in test_engine_execution_choice.py). A market order waits longer
    than one market step (1 s): the sim's paper fills are partial one time in ten, and the
    rest fills at a later step (alpaca_sim.fillmodel)."""
    base: dict[str, Any] = {
        "venue": Venue.LIVE,
        "walk_min_spread_ticks": 2,  # opted in: these suites exercise the walk
        "profiles": with_walk_durations(
            DEFAULT_PROFILES,
            step_wait=timedelta(milliseconds=step_wait_ms),
            market_wait=timedelta(milliseconds=market_wait_ms),
        ),
        "quote_retry_wait": timedelta(milliseconds=20),
        "poll_interval": timedelta(milliseconds=50),
        "cancel_confirm_timeout": timedelta(seconds=1),
        "price_reread_wait": timedelta(milliseconds=50),
        "settle_timeout": timedelta(seconds=5),
        "cleanup_budget": timedelta(seconds=3),
    }
    base.update(overrides)
    return ExecutionSettings(**base)


def plan_time(sim: SimServer) -> datetime:
    return sim.venue.clock.now() - PLAN_AGE


def event_detail(name: str, at: datetime, *, urgency: str | None = None) -> RebalancePlannedDetail:
    """A saved event's detail, re-dated to `at` (the sims live in 2026)."""
    raw = json.loads((EVENTS / name).read_text(encoding="utf-8"))["detail"]
    raw["timestamp"] = raw["rebalance_plan"]["timestamp"] = at.isoformat()
    if urgency is not None:
        raw["rebalance_plan"]["execution_urgency"] = urgency
    return parse_rebalance_detail(raw)


def item(
    symbol: str, action: str, amount: str, *, target_weight: str = "0.1", priority: int = 1
) -> dict[str, Any]:
    signed = {"BUY": amount, "SELL": f"-{amount}", "HOLD": "0"}[action]
    return {
        "symbol": symbol,
        "action": action,
        "trade_amount": signed,
        "current_weight": "0.1",
        "target_weight": target_weight,
        "weight_diff": str(Decimal(target_weight) - Decimal("0.1")),
        "current_value": "10000",
        "target_value": "10000",
        "priority": priority,
    }


def full_exit(symbol: str, amount: str = "1000") -> dict[str, Any]:
    return item(symbol, "SELL", amount, target_weight="0")


def plan_detail(
    items: Sequence[Mapping[str, Any]],
    at: datetime,
    *,
    urgency: str = "NORMAL",
    plan_id: str = "p1",
) -> RebalancePlannedDetail:
    stamp = at.isoformat()
    ids = {"correlation_id": "corr-h9", "causation_id": "cause-h9", "timestamp": stamp}
    return parse_rebalance_detail(
        {
            "event_id": "evt-h9",
            "schema_version": "1.0",
            **ids,
            "rebalance_plan": {
                "plan_id": plan_id,
                "schema_version": "1.0",
                **ids,
                "items": [dict(entry) for entry in items],
                "total_portfolio_value": "100000",
                "total_trade_value": "0",
                "execution_urgency": urgency,
                "max_drift_tolerance": "0.05",
            },
        }
    )


class EngineHarness:
    """Runs plans against `sim` the way the service does, one adapter per invocation."""

    def __init__(
        self,
        sim: SimServer,
        *,
        settings: ExecutionSettings | None = None,
        sleep: Sleep = asyncio.sleep,
        **config_overrides: object,
    ) -> None:
        self.sim = sim
        self.settings = settings or fast_settings()
        self.limiter = CountingLimiter()
        self._sleep = sleep
        self._config = config_for(sim, **{"retry_attempts": 4, **config_overrides})
        self._attempts = 0
        self.events: list[ProgressEvent] = []
        self.last_run_s = 0.0
        """Wall seconds the last `run` spent inside `run_plan` (adapter close excluded)."""

    def broker(self) -> AlpacaBroker:
        return AlpacaBroker(
            self._config, limiter=self.limiter, rng=random.Random(SEED), sleep=self._sleep
        )

    def request(self, detail: RebalancePlannedDetail) -> ExecutionRequest:
        self._attempts += 1
        started = self.sim.venue.clock.now()
        return ExecutionRequest(
            detail=detail,
            causation_id="eb-h9",
            result_event_id=f"result-h9-{self._attempts}",
            attempt=attempt_token(self._attempts, started, f"{self._attempts:08x}"),
        )

    def deps(
        self, broker: AlpacaBroker, progress: Callable[[ProgressEvent], None]
    ) -> ExecutionDeps:
        return ExecutionDeps(
            broker=broker,
            clock=SimClockPort(self.sim),
            trading_mode=TradingMode.PAPER,
            settings=self.settings,
            progress=progress,
        )

    async def run(
        self,
        detail: RebalancePlannedDetail,
        *,
        budget_s: float = BUDGET_S,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> ExecutionOutcome:
        def progress(event: ProgressEvent) -> None:
            self.events.append(event)
            if on_progress is not None:
                on_progress(event)

        broker = self.broker()
        loop = asyncio.get_running_loop()
        try:
            request = self.request(detail)
            started = loop.time()
            outcome = await run_plan(request, self.deps(broker, progress), budget_s=budget_s)
            self.last_run_s = loop.time() - started
            return outcome
        finally:
            await broker.aclose()
            await drain_submissions()

    async def crash_when(
        self, detail: RebalancePlannedDetail, stop: Callable[[ProgressEvent], bool]
    ) -> ProgressEvent:
        """Run until `stop` says so, then cancel the run as a crash would end it (no cleanup
        of ours runs: open orders stay at the broker). Returns the event that stopped it."""
        stopped: list[ProgressEvent] = []
        task: asyncio.Task[ExecutionOutcome] | None = None

        def progress(event: ProgressEvent) -> None:
            self.events.append(event)
            if task is not None and not stopped and stop(event):
                stopped.append(event)
                task.cancel()

        broker = self.broker()
        try:
            task = asyncio.create_task(
                run_plan(self.request(detail), self.deps(broker, progress), budget_s=BUDGET_S)
            )
            await asyncio.wait({task})
        finally:
            await broker.aclose()
            await drain_submissions()
        assert stopped, f"the run ended before the stop point: {task.result().result.status}"
        assert task.cancelled()
        return stopped[0]


async def drain_submissions() -> None:
    """Let order submissions shielded from a cancelled run deliver their answers (the adapter
    is closed by now, so each is done or about to be)."""
    pending = [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("submit-") and not task.done()
    ]
    if pending:
        await asyncio.wait(pending, timeout=5.0)
