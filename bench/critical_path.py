"""(a) Critical path: wall time of URGENT plans of 10, 50 and 100 items against the sim, with
20 ms added to every request and a 20 ms fill latency, rate limits off (the sim's and ours),
divided by the lower bound of 6 round trips plus 2 fill latencies. Target: <= 2.

    .venv/bin/python bench/critical_path.py [--sizes 10 50 100] [--latency-ms 20] [--fill-ms 20]

Each size runs in a fresh sim process (seeded market of that many symbols, half sells, half
buys, ~$1000 each), after one untimed 1-item warm-up plan. The adapter runs with its
production settings (at most DEFAULT_HTTP_WORKERS HTTP threads); a second row per size with
the old fixed pool of 8 threads shows how much of the gap is the adapter's thread pool
(diagnostic only; the target is read on the first row).
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
    adapter_config,
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
WORKER_ROWS = (DEFAULT_HTTP_WORKERS, 8)
"""AlpacaConfig.http_workers: the production default, then a diagnostic row (the old 8)."""


@dataclass
class Row:
    items: int
    http_workers: int
    wall_ms: float
    lower_bound_ms: float
    ratio: float
    requests: int
    status: str
    phase_ms: dict[str, float]

    @property
    def line(self) -> str:
        return (
            f"{self.items:>5} {self.http_workers:>7} {self.wall_ms:>9.0f} "
            f"{self.lower_bound_ms:>8.0f} {self.ratio:>6.2f} {self.requests:>8} {self.status}"
        )


async def run_size(items: int, latency_ms: float, fill_ms: float) -> list[Row]:
    scenario = generated_scenario(items * len(WORKER_ROWS) + 1, seed=SEED + items)
    names = symbol_names(items * len(WORKER_ROWS) + 1)
    rows: list[Row] = []
    async with sim_process(scenario, seed=SEED + items) as sim:
        await sim.control("POST", "faults", {"kind": "slow", "delay_ms": latency_ms, "count": None})
        await sim.control("POST", "latency", {"ack_ms": 0, "fill_ms": fill_ms})
        await warm_up(sim, names[-1])
        for index, workers in enumerate(WORKER_ROWS):
            chosen = names[index * items : (index + 1) * items]
            detail = plan_detail(
                plan_items(chosen, notional=Decimal(1000), rng=random.Random(items)),
                sim.clock.now(),
                urgency="URGENT",
                plan_id=f"crit-{items}-{workers}",
            )
            config = adapter_config(sim, http_workers=workers)
            run = await run_engine(sim, detail, ExecutionSettings(), config=config)
            bound_ms = ROUND_TRIPS * latency_ms + FILL_LATENCIES * fill_ms
            wall_ms = run.wall_s * 1000
            rows.append(
                Row(
                    items=items,
                    http_workers=workers,
                    wall_ms=wall_ms,
                    lower_bound_ms=bound_ms,
                    ratio=wall_ms / bound_ms,
                    requests=run.requests_after - run.requests_before,
                    status=run.outcome.result.status.value,
                    phase_ms=run.phase_ms,
                )
            )
    return rows


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


async def main_async(sizes: list[int], latency_ms: float, fill_ms: float) -> list[Row]:
    rows: list[Row] = []
    for items in sizes:
        rows += await run_size(items, latency_ms, fill_ms)
    return rows


def measure(
    sizes: tuple[int, ...] = (10, 50, 100), latency_ms: float = 20.0, fill_ms: float = 20.0
) -> dict[str, Any]:
    """The figures (JSON-ready): one row per plan size and thread-pool size."""
    started = time.perf_counter()
    rows = asyncio.run(main_async(list(sizes), latency_ms, fill_ms))
    worst = max(row.ratio for row in rows if row.http_workers == WORKER_ROWS[0])
    return {
        "latency_ms": latency_ms,
        "fill_ms": fill_ms,
        "lower_bound": f"{ROUND_TRIPS} round trips + {FILL_LATENCIES} fill latencies",
        "target_ratio": TARGET_RATIO,
        "production_http_workers": WORKER_ROWS[0],
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
        f"{'items':>5} {'threads':>7} {'wall ms':>9} {'bound':>8} {'ratio':>6} {'requests':>8}",
        *(row.line for row in rows),
        "where the time goes (ms per engine phase, production thread pool):",
    ]
    for row in rows:
        if row.http_workers == WORKER_ROWS[0]:
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
    args = parser.parse_args()
    figures = measure(tuple(args.sizes), args.latency_ms, args.fill_ms)
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('critical_path', figures)}")


if __name__ == "__main__":
    main()
