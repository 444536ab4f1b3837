"""(a) Critical path: wall time of URGENT plans of 10, 50 and 100 items against the sim, with
20 ms added to every request and a 20 ms fill latency, rate limits off (the sim's and ours),
divided by the lower bound of 6 round trips plus 2 fill latencies. Target: <= 2.

    .venv/bin/python bench/critical_path.py [--sizes 10 50 100] [--latency-ms 20] [--fill-ms 20]
        [--repeats 5]

Each size runs `repeats` times, each time in a fresh sim process (seeded market of that many
symbols, half sells, half buys, ~$1000 each) after one untimed 1-item warm-up plan; the
median run is reported, with the lowest and highest. Each plan gets a fresh adapter, as
each invocation does, with the production settings: its blocking calls run on the execution
environment's DEFAULT_HTTP_WORKERS threads, started once at cold start (`build_runtime`; here
before the first plan). A second row per size gives the adapter threads of its own, started
on demand during the plan as before (diagnostic only; the target is read on the first row).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_rig import (
    SimProcess,
    generated_scenario,
    plan_detail,
    plan_items,
    run_engine,
    sim_process,
    symbol_names,
    write_figures,
)
from plan_executor.adapters.alpaca_config import DEFAULT_HTTP_WORKERS
from plan_executor.domain.enums import ExecutionStatus
from plan_executor.engine.config import ExecutionSettings

ROUND_TRIPS = 6
FILL_LATENCIES = 2
TARGET_RATIO = 2.0
SEED = 20
PRODUCTION_THREADS = "cold start"
THREAD_ROWS = (PRODUCTION_THREADS, "on demand")
"""When the HTTP threads start: at cold start (production), or during the plan (diagnostic)."""
REPEATS = 5
"""Runs per plan size and thread start, each pair on a fresh sim, the pair's order alternating;
the median is read. One 100-item run moves ~10 % with the machine's other load."""


@dataclass
class Run:
    wall_ms: float
    requests: int
    status: str
    phase_ms: dict[str, float]


@dataclass
class Row:
    """One plan size and thread start: the median of its runs (each on a fresh sim)."""

    items: int
    threads: str
    wall_ms: float
    lower_bound_ms: float
    ratio: float
    ratios: list[float]
    requests: int
    status: str
    phase_ms: dict[str, float]

    @property
    def line(self) -> str:
        spread = f"{min(self.ratios):.2f}-{max(self.ratios):.2f}"
        return (
            f"{self.items:>5} {self.threads:>10} {self.wall_ms:>9.0f} {self.lower_bound_ms:>8.0f} "
            f"{self.ratio:>6.2f} {spread:>10} {self.requests:>8} {self.status}"
        )


def summarise(items: int, threads: str, runs: list[Run], bound_ms: float) -> Row:
    ordered = sorted(runs, key=lambda run: run.wall_ms)
    median = ordered[len(ordered) // 2]
    failed = [run.status for run in runs if run.status != ExecutionStatus.SUCCESS.value]
    return Row(
        items=items,
        threads=threads,
        wall_ms=median.wall_ms,
        lower_bound_ms=bound_ms,
        ratio=median.wall_ms / bound_ms,
        ratios=[round(run.wall_ms / bound_ms, 3) for run in runs],
        requests=median.requests,
        status=failed[0] if failed else ExecutionStatus.SUCCESS.value,
        phase_ms=median.phase_ms,
    )


async def run_size(items: int, latency_ms: float, fill_ms: float, repeats: int) -> list[Row]:
    runs: dict[str, list[Run]] = {threads: [] for threads in THREAD_ROWS}
    for repeat in range(repeats):
        order = THREAD_ROWS if repeat % 2 == 0 else THREAD_ROWS[::-1]
        pair = await run_pair(items, latency_ms, fill_ms, order)
        for threads, run in zip(order, pair, strict=True):
            runs[threads].append(run)
    bound_ms = ROUND_TRIPS * latency_ms + FILL_LATENCIES * fill_ms
    return [summarise(items, threads, runs[threads], bound_ms) for threads in THREAD_ROWS]


async def run_pair(
    items: int, latency_ms: float, fill_ms: float, order: tuple[str, ...]
) -> list[Run]:
    """One fresh sim: the warm-up, then one plan per thread start, each on its own symbols."""
    scenario = generated_scenario(items * len(order) + 1, seed=SEED + items)
    names = symbol_names(items * len(order) + 1)
    runs: list[Run] = []
    async with sim_process(scenario, seed=SEED + items) as sim:
        await sim.control("POST", "faults", {"kind": "slow", "delay_ms": latency_ms, "count": None})
        await sim.control("POST", "latency", {"ack_ms": 0, "fill_ms": fill_ms})
        await warm_up(sim, names[-1])
        for index, threads in enumerate(order):
            chosen = names[index * items : (index + 1) * items]
            detail = plan_detail(
                plan_items(chosen, notional=Decimal(1000), rng=random.Random(items)),
                sim.clock.now(),
                urgency="URGENT",
                plan_id=f"crit-{items}-{index}",
            )
            own = threads != PRODUCTION_THREADS
            run = await run_engine(sim, detail, ExecutionSettings(), own_threads=own)
            requests = run.requests_after - run.requests_before
            status = run.outcome.result.status.value
            runs.append(Run(run.wall_s * 1000, requests, status, run.phase_ms))
    return runs


async def warm_up(sim: SimProcess, symbol: str) -> None:
    """One small plan first, so imports and the sim's code paths are warm for the rest. Each
    plan then gets a fresh adapter (new threads and connections), as each invocation does."""
    detail = plan_detail(
        plan_items([symbol], notional=Decimal(500), rng=random.Random(0)),
        sim.clock.now(),
        urgency="URGENT",
        plan_id="crit-warm-up",
    )
    run = await run_engine(sim, detail, ExecutionSettings())
    if run.outcome.result.status is not ExecutionStatus.SUCCESS:
        raise RuntimeError(f"warm-up plan ended {run.outcome.result.status}")


async def main_async(
    sizes: list[int], latency_ms: float, fill_ms: float, repeats: int
) -> list[Row]:
    rows: list[Row] = []
    for items in sizes:
        rows += await run_size(items, latency_ms, fill_ms, repeats)
    return rows


def measure(
    sizes: tuple[int, ...] = (10, 50, 100),
    latency_ms: float = 20.0,
    fill_ms: float = 20.0,
    repeats: int = REPEATS,
) -> dict[str, Any]:
    """The figures (JSON-ready): one row per plan size and thread start."""
    started = time.perf_counter()
    rows = asyncio.run(main_async(list(sizes), latency_ms, fill_ms, repeats))
    worst = max(row.ratio for row in rows if row.threads == PRODUCTION_THREADS)
    return {
        "latency_ms": latency_ms,
        "fill_ms": fill_ms,
        "lower_bound": f"{ROUND_TRIPS} round trips + {FILL_LATENCIES} fill latencies",
        "repeats": repeats,
        "target_ratio": TARGET_RATIO,
        "http_workers": DEFAULT_HTTP_WORKERS,
        "production_threads": PRODUCTION_THREADS,
        "worst_ratio": round(worst, 2),
        "target_met": worst <= TARGET_RATIO,
        "rows": [asdict(row) for row in rows],
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def report_lines(figures: dict[str, Any]) -> list[str]:
    rows = [Row(**row) for row in figures["rows"]]
    lines = [
        f"URGENT plans, {figures['latency_ms']:.0f} ms per request, "
        f"{figures['fill_ms']:.0f} ms fill latency",
        f"lower bound = {figures['lower_bound']}",
        f"{'items':>5} {'threads':>10} {'wall ms':>9} {'bound':>8} {'ratio':>6} "
        f"{'runs':>10} {'requests':>8}",
        *(row.line for row in rows),
        f"(median of {figures['repeats']} runs, each on a fresh sim; runs = their lowest-highest)",
        "where the time goes (ms per engine phase, median run, threads started at cold start):",
    ]
    for row in rows:
        if row.threads == PRODUCTION_THREADS:
            phases = ", ".join(f"{name} {ms:.0f}" for name, ms in row.phase_ms.items())
            lines.append(f"  {row.items:>3} items: {phases}")
    verdict = "met" if figures["target_met"] else "MISSED"
    lines.append(f"target ratio <= {TARGET_RATIO} (production adapter settings): {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--fill-ms", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    figures = measure(tuple(args.sizes), args.latency_ms, args.fill_ms, args.repeats)
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('critical_path', figures)}")


if __name__ == "__main__":
    main()
