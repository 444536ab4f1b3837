"""Peak memory of one 100-item plan: the peak resident set (getrusage ru_maxrss) of a fresh
process that imports what the Lambda imports and runs one URGENT plan through the real
AlpacaBroker against the sim, compared with the function's MemorySize in template.yaml.

    .venv/bin/python bench/peak_memory.py [--items 100]

The measured process is a fresh child (`peak_memory.py child`): it imports
`plan_executor.handler` (Powertools, boto3, aioboto3, alpaca-py, pydantic, the engine) and the
bench rig (which also loads alpaca_sim's modules), reads its peak RSS, then runs the plan with
a fresh adapter (HTTP thread pool, trade stream) and reads the peak again. The peak covers
the interpreter, every imported module, thread stacks and the plan's objects; it excludes the
sim, which serves from its own process (its peak is reported beside it, not added).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import re
import resource
import subprocess
import sys
import time
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

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
SEED = 40
CHILD_TIMEOUT_S = 120.0
TARGET_FRACTION = 0.5
"""Peak RSS should stay under half the function's MemorySize: room for a larger plan."""


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set of this process (or of its waited-for children) in MiB."""
    peak = resource.getrusage(who).ru_maxrss
    per_unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(peak * per_unit / 1024 / 1024, 1)


def lambda_memory_mb() -> int | None:
    match = re.search(r"^\s*MemorySize:\s*(\d+)", TEMPLATE.read_text(encoding="utf-8"), re.M)
    return int(match.group(1)) if match else None


async def one_plan(items: int) -> dict[str, Any]:
    async with sim_process(generated_scenario(items, seed=SEED), seed=SEED) as sim:
        detail = plan_detail(
            plan_items(symbol_names(items), notional=Decimal(1000), rng=random.Random(items)),
            sim.clock.now(),
            urgency="URGENT",
            plan_id=f"memory-{items}",
        )
        run = await run_engine(sim, detail, ExecutionSettings())
    children = [child for order in run.outcome.result.orders for child in order.child_orders]
    return {
        "status": run.outcome.result.status.value,
        "filled_orders": sum(child.status is ChildOrderStatus.FILLED for child in children),
        "plan_ms": round(run.wall_s * 1000),
    }


def child(items: int) -> dict[str, Any]:
    """Runs in the measured process: imports, one plan, the peaks."""
    importlib.import_module("plan_executor.handler")
    after_imports = peak_rss_mib()
    plan = asyncio.run(one_plan(items))
    return {
        "items": items,
        "after_imports_mib": after_imports,
        "peak_mib": peak_rss_mib(),
        "sim_process_peak_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
        **plan,
    }


def measure(items: int = 100) -> dict[str, Any]:
    """The figures (JSON-ready), measured in a fresh child process."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "child", "--items", str(items)],
        capture_output=True,
        text=True,
        check=False,
        timeout=CHILD_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(f"peak memory child failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["plan_increase_mib"] = round(figures["peak_mib"] - figures["after_imports_mib"], 1)
    memory_mb = lambda_memory_mb()
    figures["lambda_memory_mb"] = memory_mb
    if memory_mb:
        figures["fraction_of_lambda_memory"] = round(figures["peak_mib"] / memory_mb, 3)
        figures["target_mib"] = TARGET_FRACTION * memory_mb
        figures["target_met"] = figures["peak_mib"] <= figures["target_mib"]
    figures["includes"] = (
        "one process: interpreter, plan_executor.handler's imports, the bench rig (alpaca_sim "
        "modules), adapter threads, one URGENT plan; the sim runs in its own process"
    )
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def report_lines(figures: dict[str, Any]) -> list[str]:
    lines = [
        f"one URGENT plan of {figures['items']} items ({figures['status']}, "
        f"{figures['filled_orders']} orders filled, {figures['plan_ms']} ms), peak RSS:",
        f"  after imports {figures['after_imports_mib']:.0f} MiB, peak {figures['peak_mib']:.0f}"
        f" MiB (+{figures['plan_increase_mib']:.0f} MiB for the plan)",
        f"  the sim's own process peaked at {figures['sim_process_peak_mib']:.0f} MiB"
        " (not counted)",
    ]
    if figures.get("lambda_memory_mb"):
        verdict = "met" if figures["target_met"] else "MISSED"
        lines.append(
            f"  {figures['fraction_of_lambda_memory']:.0%} of the function's MemorySize "
            f"{figures['lambda_memory_mb']} MB; target <= {TARGET_FRACTION:.0%}: {verdict}"
        )
    lines.append(f"  includes: {figures['includes']}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["child"])
    parser.add_argument("--items", type=int, default=100)
    args = parser.parse_args()
    if args.command == "child":
        print(json.dumps(child(args.items)))
        return
    figures = measure(args.items)
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('peak_memory', figures)}")


if __name__ == "__main__":
    main()
