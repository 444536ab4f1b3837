"""Shared rig for the engine benchmarks: a generated market, alpaca_sim in its own process (so
the engine and the venue do not share one event loop), the real AlpacaBroker, and plans.

    .venv/bin/python bench/engine_rig.py serve --scenario FILE --seed S --speed V --tick T
runs the sim and prints {"port": P} once it listens (the benchmarks start it that way).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from alpaca_sim.scenario import Scenario, scenario_from_dict
from alpaca_sim.server import SimServer
from plan_executor.adapters.alpaca_broker import AlpacaBroker
from plan_executor.adapters.alpaca_config import AlpacaConfig, Secret
from plan_executor.adapters.alpaca_threads import SdkThreads
from plan_executor.bootstrap import start_broker_threads
from plan_executor.domain.enums import TradingMode
from plan_executor.domain.events import RebalancePlannedDetail, parse_rebalance_detail
from plan_executor.domain.ledger_keys import attempt_token
from plan_executor.engine.config import ExecutionSettings
from plan_executor.engine.executor import run_plan
from plan_executor.engine.models import ExecutionDeps, ExecutionOutcome, ExecutionRequest
from plan_executor.engine.progress import ProgressEvent, ProgressKind

RIG = Path(__file__).resolve()
OUT_DIR = RIG.parent / "out"
START = "2026-11-24T14:45:00Z"
KEY, SECRET = "sim-key", "sim-secret"
POSITION_VALUE = Decimal(20_000)
"""Dollars held of every symbol at the start, so any sell in a plan is covered."""
Json = dict[str, Any]


# --- the market -------------------------------------------------------------------------------


def symbol_names(count: int) -> list[str]:
    return [f"S{index:03d}" for index in range(count)]


def generated_scenario(symbols: int, *, seed: int, cash: Decimal = Decimal(2_000_000)) -> Json:
    """`symbols` liquid stocks ($20-$500, 1-5 bps spreads, 20-40 % volatility), each held for
    about $20k, lots of cash, no rate limit, zero venue latency (set per run)."""
    rng = random.Random(seed)
    specs: Json = {}
    positions: Json = {}
    for name in symbol_names(symbols):
        price = Decimal(rng.randint(2_000, 50_000)) / 100
        specs[name] = {
            "price": str(price),
            "spread_bps": str(rng.choice([1, 1.5, 2, 3, 4, 5])),
            "size": rng.randint(300, 900),
            "volatility": str(Decimal(rng.randint(20, 40)) / 100),
            "exchange": "NASDAQ",
        }
        positions[name] = {"qty": str((POSITION_VALUE / price).quantize(Decimal("0.0001")))}
    return {
        "name": f"bench-{symbols}",
        "account": {"type": "cash", "cash": str(cash)},
        "clock": {"start": START, "session_open_utc": "14:30", "session_close_utc": "21:00"},
        "market": {"step_seconds": 1, "stale_after_seconds": 5, "collar_pct": "2"},
        "latency": {"ack_ms": 0, "fill_ms": 0},
        "rate_limit": {"per_minute": 200, "enabled": False},
        "symbols": specs,
        "positions": positions,
    }


def plan_items(symbols: Sequence[str], *, notional: Decimal, rng: random.Random) -> list[Json]:
    """Half sells, half buys (alternating), each about `notional` dollars (+-50 %)."""
    items: list[Json] = []
    for index, symbol in enumerate(symbols):
        amount = (notional * Decimal(rng.randint(50, 150)) / 100).quantize(Decimal("0.01"))
        action = "SELL" if index % 2 == 0 else "BUY"
        items.append(
            {
                "symbol": symbol,
                "action": action,
                "trade_amount": str(-amount if action == "SELL" else amount),
                "current_weight": "0.01",
                "target_weight": "0.005" if action == "SELL" else "0.015",
                "weight_diff": "-0.005" if action == "SELL" else "0.005",
                "current_value": "20000",
                "target_value": "20000",
                "priority": 1,
            }
        )
    return items


def plan_detail(
    items: Sequence[Json], at: datetime, *, urgency: str, plan_id: str
) -> RebalancePlannedDetail:
    ids = {"correlation_id": "bench", "causation_id": "bench", "timestamp": at.isoformat()}
    return parse_rebalance_detail(
        {
            "event_id": f"evt-{plan_id}",
            "schema_version": "1.0",
            **ids,
            "rebalance_plan": {
                "plan_id": plan_id,
                "schema_version": "1.0",
                **ids,
                "items": list(items),
                "total_portfolio_value": "1000000",
                "total_trade_value": "0",
                "execution_urgency": urgency,
                "max_drift_tolerance": "0.05",
            },
        }
    )


# --- the sim in its own process ---------------------------------------------------------------


class SimTime:
    """`ports.Clock` for the engine: the sim's clock, followed from one reading of it."""

    def __init__(self, sim_now: datetime, speed: float) -> None:
        self._anchor = sim_now
        self._wall = time.monotonic()
        self._speed = speed

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=(time.monotonic() - self._wall) * self._speed)


@dataclass
class SimProcess:
    process: asyncio.subprocess.Process
    session: aiohttp.ClientSession
    port: int
    speed: float
    clock: SimTime = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def control(self, method: str, path: str, body: object = None) -> Any:
        async with self.session.request(method, f"{self.url}/_sim/{path}", json=body) as reply:
            if reply.status != 200:
                raise RuntimeError(f"/_sim/{path}: {reply.status} {await reply.text()}")
            return await reply.json()

    async def state(self) -> Json:
        state: Json = await self.control("GET", "state")
        return state

    async def follow_clock(self) -> None:
        now = (await self.state())["now"]
        self.clock = SimTime(datetime.fromisoformat(now.replace("Z", "+00:00")), self.speed)


@contextlib.contextmanager
def scenario_file(scenario: Json) -> Iterator[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(scenario, handle)
    try:
        yield handle.name
    finally:
        Path(handle.name).unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def sim_process(
    scenario: Json, *, seed: int, speed: float = 1.0, tick_s: float = 0.002
) -> AsyncIterator[SimProcess]:
    """The sim serving `scenario` in a child process, stopped (SIGTERM) on the way out."""
    with scenario_file(scenario) as path:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(RIG),
            "serve",
            "--scenario",
            path,
            "--seed",
            str(seed),
            "--speed",
            str(speed),
            "--tick",
            str(tick_s),
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            async with asyncio.timeout(30):
                port = int(json.loads(await process.stdout.readline())["port"])
            headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
            async with aiohttp.ClientSession(headers=headers) as session:
                sim = SimProcess(process, session, port, speed)
                await sim.follow_clock()
                yield sim
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await process.wait()


# --- the engine -------------------------------------------------------------------------------


class NoLimit:
    """Our limiter switched off (the benchmarks measure the engine, not the 200/min budget)."""

    async def acquire(self) -> None:
        return None


def adapter_config(sim: SimProcess, **overrides: Any) -> AlpacaConfig:
    """Production adapter settings, pointed at the sim."""
    base: Json = {
        "key_id": KEY,
        "secret_key": Secret(SECRET),
        "trading_url": sim.url,
        "data_url": sim.url,
        "stream_url": f"ws://127.0.0.1:{sim.port}/stream",
    }
    base.update(overrides)
    return AlpacaConfig(**base)


@functools.cache
def environment_threads() -> SdkThreads:
    """The broker threads of this process, started once on first use, as `build_runtime`
    starts them at a Lambda cold start."""
    return start_broker_threads()


@dataclass
class EngineRun:
    outcome: ExecutionOutcome
    wall_s: float
    requests_before: int
    requests_after: int
    phase_ms: dict[str, float]
    """Wall milliseconds per engine phase (from its progress reports), in phase order."""


async def run_engine(
    sim: SimProcess,
    detail: RebalancePlannedDetail,
    settings: ExecutionSettings,
    *,
    budget_s: float = 300.0,
    config: AlpacaConfig | None = None,
    own_threads: bool = False,
) -> EngineRun:
    """One invocation: a fresh adapter, `run_plan` timed on the event loop, adapter closed.
    The adapter's blocking calls run on this process's execution-environment threads, as in
    Lambda, or with `own_threads` on threads of its own, started as its calls need them."""
    broker = AlpacaBroker(
        config or adapter_config(sim),
        limiter=NoLimit(),
        rng=random.Random(1),
        threads=None if own_threads else environment_threads(),
    )
    before = len((await sim.state())["requests"])
    request = ExecutionRequest(
        detail=detail,
        causation_id="bench",
        result_event_id=f"result-{detail.rebalance_plan.plan_id}",
        attempt=attempt_token(1, sim.clock.now(), "0badc0de"),
    )
    loop = asyncio.get_running_loop()
    phases = PhaseTimes(loop.time)
    deps = ExecutionDeps(
        broker=broker,
        clock=sim.clock,
        trading_mode=TradingMode.PAPER,
        settings=settings,
        progress=phases.record,
    )
    try:
        started = loop.time()
        outcome = await run_plan(request, deps, budget_s=budget_s)
        wall_s = loop.time() - started
    finally:
        await broker.aclose()
    after = len((await sim.state())["requests"])
    return EngineRun(outcome, wall_s, before, after, phases.durations_ms)


class PhaseTimes:
    """Collects how long each engine phase took, from the progress callback."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._started: dict[str, float] = {}
        self.durations_ms: dict[str, float] = {}

    def record(self, event: ProgressEvent) -> None:
        if event.phase is None:
            return
        if event.kind is ProgressKind.PHASE_STARTED:
            self._started[event.phase.value] = self._now()
        elif event.kind is ProgressKind.PHASE_ENDED and event.phase.value in self._started:
            spent = self._now() - self._started[event.phase.value]
            self.durations_ms[event.phase.value] = round(spent * 1000, 1)


def write_figures(name: str, figures: Mapping[str, object]) -> Path:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    return path


# --- `serve`: the sim process -----------------------------------------------------------------


async def _serve(scenario: Scenario, seed: int, speed: float, tick_s: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimServer(scenario, seed, speed=speed, tick_interval=tick_s) as sim:
        print(json.dumps({"port": sim.port}), flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="run alpaca_sim for the engine benchmarks")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--tick", type=float, default=0.002)
    args = parser.parse_args()
    scenario = scenario_from_dict(json.loads(Path(args.scenario).read_text(encoding="utf-8")))
    asyncio.run(_serve(scenario, args.seed, args.speed, args.tick))


if __name__ == "__main__":
    main()
