"""`make bench`: the performance report. Runs every measurement in turn, each in its own
process with a time limit, prints one report and writes bench/out/report.json and
bench/out/report.png. How to read each figure: bench/README.md.

    .venv/bin/python bench/report.py [--budget 600]

Each measurement runs in a fresh spawned process that leads its own process group, so a
measurement that overruns its limit is stopped together with the sims it started, and the
report goes on with the next one (marked `timeout` or `error`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import multiprocessing
import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from report_chart import draw_chart  # noqa: E402

OUT_DIR = BENCH / "out"
JSON_PATH = OUT_DIR / "report.json"
PNG_PATH = OUT_DIR / "report.png"
TOTAL_BUDGET_S = 600.0
"""The whole report stays within ~5 minutes on 2 cores; a section gets what is left."""
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class Section:
    key: str
    """The bench module: it has measure(**kwargs) -> figures and report_lines(figures)."""
    title: str
    limit_s: float
    kwargs: Mapping[str, Any] = field(default_factory=dict)


SECTIONS = (
    Section("cold_import", "cold import: the handler vs alpaca.trading.client alone", 120),
    Section("critical_path", "critical path: URGENT plans vs the network's lower bound", 90),
    Section("broker_requests", "broker requests per filled order", 60),
    Section("execution_cost", "execution cost: NORMAL vs price-improved market orders", 420),
    Section("peak_memory", "peak memory: one 100-item plan", 60),
    Section("sim_throughput", "alpaca_sim's own throughput", 45),
)


@dataclass
class Outcome:
    status: str
    """ok, error, timeout or skipped"""
    seconds: float
    figures: dict[str, Any] | None = None
    error: str | None = None


# --- running one measurement --------------------------------------------------------------


def _measure_in_child(module: str, kwargs: Mapping[str, Any], send: Connection) -> None:
    os.setpgrp()  # leads its own group: a timeout stops the sims it started too
    try:
        figures = importlib.import_module(module).measure(**kwargs)
        send.send(("ok", json.dumps(figures, default=str)))
    except Exception as error:  # any failure is reported as the section's result
        send.send(("error", f"{type(error).__name__}: {error}"))


def run_section(section: Section, limit_s: float) -> Outcome:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_measure_in_child, args=(section.key, dict(section.kwargs), send)
    )
    started = time.perf_counter()
    process.start()
    try:
        if not receive.poll(limit_s):
            return Outcome("timeout", limit_s, error=f"stopped after {limit_s:.0f} s")
        status, payload = receive.recv()
    except EOFError:
        return Outcome("error", time.perf_counter() - started, error="the process died")
    finally:
        stop_group(process)
    seconds = round(time.perf_counter() - started, 1)
    if status != "ok":
        return Outcome(status, seconds, error=payload)
    return Outcome(status, seconds, figures=json.loads(payload))


def stop_group(process: BaseProcess) -> None:
    """Let a finished child exit; stop an overrunning one with its whole process group."""
    process.join(STOP_GRACE_S)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not process.is_alive() or process.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, sig)
            else:
                os.kill(process.pid, sig)
        process.join(STOP_GRACE_S)


# --- the text report ----------------------------------------------------------------------


def section_lines(section: Section, outcome: Outcome) -> list[str]:
    head = f"== {section.title} ({outcome.status}, {outcome.seconds:.0f} s) =="
    if outcome.figures is None:
        return [head, f"  {outcome.error}"]
    module = importlib.import_module(section.key)
    return [head, *(f"  {line}" for line in module.report_lines(outcome.figures))]


def headlines(outcomes: Mapping[str, Outcome]) -> list[tuple[str, str, str]]:
    """(figure, value, target and verdict) for the summary table."""
    rows: list[tuple[str, str, str]] = []
    for key, extract in HEADLINES.items():
        outcome = outcomes.get(key)
        if outcome is None or outcome.figures is None:
            status = outcome.status if outcome else "not run"
            rows.append((key, status, ""))
            continue
        rows += extract(outcome.figures)
    return rows


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _cold_import(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    medians = {(r["interpreter"], r["module"]): r["median_ms"] for r in figures["rows"]}
    rows = []
    for interpreter, ratio in figures["handler_over_sdk"].items():
        handler = medians[(interpreter, "plan_executor.handler")]
        sdk = medians[(interpreter, "alpaca.trading.client")]
        value = f"{handler:.0f} vs {sdk:.0f} ms ({ratio:.2f}x)"
        rows.append((f"cold import handler vs SDK, {interpreter}", value, "-"))
    return rows


def _critical_path(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    production = [r for r in figures["rows"] if r["threads"] == figures["production_threads"]]
    value = " / ".join(f"{r['ratio']:.2f}" for r in production)
    sizes = "/".join(str(r["items"]) for r in production)
    target = f"<= {figures['target_ratio']:g}: {_verdict(figures['target_met'])}"
    return [(f"critical-path ratio, {sizes} items", value, target)]


def _broker_requests(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    value = " / ".join(f"{r['per_filled_order']:.2f}" for r in figures["rows"])
    sizes = "/".join(str(r["items"]) for r in figures["rows"])
    target = f"<= {figures['target']:g}: {_verdict(figures['target_met'])}"
    return [(f"requests per filled order, {sizes} items", value, target)]


def _execution_cost(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    verdicts = figures["verdicts"]
    live = figures["models"].get("live")
    if live is not None:
        ratio = live["vs_market"]["normal"]["ratio"]
        normal = live["methods"]["normal"]
        rows += [
            ("live: cost NORMAL / market (95 %)", _ratio_text(ratio),
             f"<= 0.7: {_verdict(verdicts['live_cost'])}"),
            ("live: a spread bucket worse than market", "beyond its interval" if not
             verdicts["live_buckets"] else "none", f"none: {_verdict(verdicts['live_buckets'])}"),
            ("live: NORMAL filled", f"{normal['filled_fraction']:.2%}",
             f">= 99 %: {_verdict(verdicts['live_filled'])}"),
        ]  # fmt: skip
    paper = figures["models"].get("paper")
    if paper is not None:
        normal, market = paper["methods"]["normal"], paper["methods"]["market"]
        gap = paper["vs_market"]["normal"]["difference_bps"]
        rows += [
            ("paper: time NORMAL vs market (median s)",
             f"{normal['seconds_median']:.2f} vs {market['seconds_median']:.2f}",
             f"<= 1.2x: {_verdict(verdicts['paper_time'])}"),
            ("paper: cost NORMAL - market (95 %)",
             f"{gap['value']:+.2f} bps [{gap['low']:+.2f}, {gap['high']:+.2f}]",
             f"no more: {_verdict(verdicts['paper_cost'])}"),
        ]  # fmt: skip
    return rows


def _ratio_text(found: dict[str, float]) -> str:
    if found["value"] is None or math.isnan(found["value"]):
        return "n/a"
    return f"{found['value']:.2f} [{found['low']:.2f}, {found['high']:.2f}]"


def _peak_memory(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    value = f"{figures['peak_mib']:.0f} MiB ({figures['after_imports_mib']:.0f} after imports)"
    target = "-"
    if figures.get("lambda_memory_mb"):
        target = f"<= {figures['target_mib']:.0f} MiB: {_verdict(figures['target_met'])}"
    return [(f"peak RSS, {figures['items']}-item plan", value, target)]


def _sim_throughput(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f"sim: {r['name']}", f"{r['per_second']:.0f} req/s", "-") for r in figures["rows"]]


HEADLINES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str, str]]]] = {
    "cold_import": _cold_import,
    "critical_path": _critical_path,
    "broker_requests": _broker_requests,
    "execution_cost": _execution_cost,
    "peak_memory": _peak_memory,
    "sim_throughput": _sim_throughput,
}


def summary_lines(rows: list[tuple[str, str, str]]) -> list[str]:
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    lines = ["== summary =="]
    lines += [f"  {n:{width}}  {v:{value_width}}  {t}" for n, v, t in rows]
    return lines


# --- output -------------------------------------------------------------------------------


def without_nan(value: Any) -> Any:
    """Strict JSON: NaN (a ratio with nothing to divide) becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nan(item) for item in value]
    return value


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_report(outcomes: Mapping[str, Outcome], total_s: float) -> dict[str, Any]:
    report: dict[str, Any] = without_nan(
        {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "total_seconds": round(total_s, 1),
            "sections": {
                section.key: {"title": section.title, **vars(outcomes[section.key])}
                for section in SECTIONS
                if section.key in outcomes
            },
        }
    )
    OUT_DIR.mkdir(exist_ok=True)
    JSON_PATH.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=TOTAL_BUDGET_S, help="seconds in all")
    args = parser.parse_args()
    started = time.perf_counter()
    info = machine()
    print(f"plan-executor performance report: {info['cpus']} CPUs, Python {info['python']}")
    outcomes: dict[str, Outcome] = {}
    for section in SECTIONS:
        left = args.budget - (time.perf_counter() - started)
        if left < 1:
            outcomes[section.key] = Outcome("skipped", 0.0, error="the report's budget is spent")
        else:
            outcomes[section.key] = run_section(section, min(section.limit_s, left))
        print("\n".join(section_lines(section, outcomes[section.key])), flush=True)
    total_s = time.perf_counter() - started
    report = write_report(outcomes, total_s)
    draw_chart(report, PNG_PATH)
    print("\n".join(summary_lines(headlines(outcomes))))
    print(f"total {total_s:.0f} s; figures: {JSON_PATH}, chart: {PNG_PATH}")


if __name__ == "__main__":
    main()
