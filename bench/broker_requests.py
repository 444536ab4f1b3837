"""(b) Broker requests per filled order, trade stream up: every request the sim logged during a
plan (trading and market data) divided by the plan's child orders that filled. Target for
URGENT: <= 3.

    .venv/bin/python bench/broker_requests.py [--sizes 10 50 100] [--fill-ms 20]

Each size runs in a fresh sim process (seeded market, half sells, half buys, ~$1000 each) with
a fill latency, so fills reach the engine on the trade stream rather than in the submit answer.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_rig import (
    generated_scenario,
    plan_detail,
    plan_items,
    run_engine,
    sim_process,
    symbol_names,
    write_figures,
)
from plan_executor.domain.enums import ChildOrderStatus
from plan_executor.engine.config import ExecutionSettings

TARGET = 3.0
SEED = 30
URGENCY = "URGENT"


@dataclass
class Row:
    items: int
    requests: int
    filled_orders: int
    child_orders: int
    per_filled_order: float
    per_item: float
    by_endpoint: dict[str, int]
    status: str

    @property
    def line(self) -> str:
        return (
            f"{self.items:>5} {self.requests:>8} {self.child_orders:>6} {self.filled_orders:>6} "
            f"{self.per_filled_order:>9.2f} {self.per_item:>8.2f} {self.status}"
        )


def endpoint(entry: dict[str, object]) -> str:
    path = str(entry["path"])
    if path.startswith("/v2/orders/") and entry["method"] == "DELETE":
        path = "/v2/orders/{id}"
    if path.startswith("/v2/assets/"):
        path = "/v2/assets/{symbol}"
    return f"{entry['method']} {path}"


async def run_size(items: int, fill_ms: float) -> Row:
    async with sim_process(generated_scenario(items, seed=SEED + items), seed=SEED + items) as sim:
        await sim.control("POST", "latency", {"ack_ms": 0, "fill_ms": fill_ms})
        detail = plan_detail(
            plan_items(symbol_names(items), notional=Decimal(1000), rng=random.Random(items)),
            sim.clock.now(),
            urgency=URGENCY,
            plan_id=f"requests-{items}",
        )
        run = await run_engine(sim, detail, ExecutionSettings())
        log = (await sim.state())["requests"][run.requests_before : run.requests_after]
    children = [child for order in run.outcome.result.orders for child in order.child_orders]
    filled = [child for child in children if child.status is ChildOrderStatus.FILLED]
    return Row(
        items=items,
        requests=len(log),
        filled_orders=len(filled),
        child_orders=len(children),
        per_filled_order=len(log) / len(filled),
        per_item=len(log) / items,
        by_endpoint=dict(Counter(endpoint(entry) for entry in log).most_common()),
        status=run.outcome.result.status.value,
    )


async def main_async(sizes: list[int], fill_ms: float) -> list[Row]:
    return [await run_size(items, fill_ms) for items in sizes]


def measure(sizes: tuple[int, ...] = (10, 50, 100), fill_ms: float = 20.0) -> dict[str, Any]:
    """The figures (JSON-ready): one row per plan size."""
    started = time.perf_counter()
    rows = asyncio.run(main_async(list(sizes), fill_ms))
    worst = max(row.per_filled_order for row in rows)
    return {
        "urgency": URGENCY,
        "fill_ms": fill_ms,
        "target": TARGET,
        "worst_per_filled_order": round(worst, 2),
        "target_met": worst <= TARGET,
        "rows": [asdict(row) for row in rows],
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def report_lines(figures: dict[str, Any]) -> list[str]:
    rows = [Row(**row) for row in figures["rows"]]
    header = f"{'items':>5} {'requests':>8} {'orders':>6} {'filled':>6} {'per fill':>9}"
    lines = [
        f"{figures['urgency']} plans, trade stream up, {figures['fill_ms']:.0f} ms fill latency",
        f"{header} {'per item':>8}",
        *(row.line for row in rows),
    ]
    for row in rows:
        parts = ", ".join(f"{name} {count}" for name, count in row.by_endpoint.items())
        lines.append(f"  {row.items:>3} items: {parts}")
    verdict = "met" if figures["target_met"] else "MISSED"
    lines.append(f"target <= {TARGET} requests per filled order: {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--fill-ms", type=float, default=20.0)
    args = parser.parse_args()
    figures = measure(tuple(args.sizes), args.fill_ms)
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('broker_requests', figures)}")


if __name__ == "__main__":
    main()
