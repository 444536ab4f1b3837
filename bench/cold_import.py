"""Cold import: the Lambda handler versus `alpaca.trading.client` alone, each in fresh
interpreter processes, median of N, measured side by side in one run.

    .venv/bin/python bench/cold_import.py [--runs 5]

Two interpreters when they exist:
  venv:     this interpreter (the dev venv, Python 3.11, site-packages, bytecode cached by
            one untimed run per module first);
  artifact: CPython 3.12 on build/artifact alone (`-S`, no site-packages, bytecode shipped in
            the artifact, none written), as on Lambda; skipped without a build or a 3.12.
The two modules alternate run by run, so machine noise falls on both alike. Each figure is the
time of the `import` statement inside the child (interpreter start-up excluded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from build_artifact import (  # noqa: E402 (scripts/ is not a package)
    ARTIFACT_DIR,
    SERVICE_PACKAGE,
    ZIP_PATH,
    BuildError,
    find_python312,
    time_import,
)

from engine_rig import write_figures  # noqa: E402

HANDLER = "plan_executor.handler"
SDK_ALONE = "alpaca.trading.client"
MODULES = (HANDLER, SDK_ALONE)
RUN_TIMEOUT_S = 60.0


@dataclass
class Row:
    interpreter: str
    module: str
    runs_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)


def import_seconds(python: str, module: str) -> float:
    """Seconds to import `module` in a fresh `python` with its own site-packages."""
    code = (
        "import time\n"
        "started = time.perf_counter()\n"
        f"import {module}\n"
        "print(time.perf_counter() - started)\n"
    )
    result = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=False, timeout=RUN_TIMEOUT_S
    )
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def measure_venv(runs: int) -> list[Row]:
    python = sys.executable
    for module in MODULES:
        import_seconds(python, module)  # untimed: writes the .pyc files, warms the page cache
    return alternate("venv (3.11)", runs, lambda module: import_seconds(python, module))


def measure_artifact(runs: int) -> tuple[list[Row], str]:
    """Rows from build/artifact with Python 3.12, or none and why."""
    if not (ARTIFACT_DIR / "plan_executor" / "handler.py").is_file():
        return [], "no build/artifact (run `make build`)"
    try:
        python = find_python312(None)
    except BuildError as error:
        return [], str(error)
    for module in MODULES:
        time_import(python, ARTIFACT_DIR, module)  # untimed: warms the page cache
    rows = alternate(
        "artifact (3.12)", runs, lambda module: time_import(python, ARTIFACT_DIR, module)
    )
    return rows, artifact_age()


def artifact_age() -> str:
    """When the artifact was built and whether the service's sources changed since."""
    built = ZIP_PATH.stat().st_mtime if ZIP_PATH.is_file() else ARTIFACT_DIR.stat().st_mtime
    newer = [p for p in SERVICE_PACKAGE.rglob("*.py") if p.stat().st_mtime > built]
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(built))
    return f"artifact built {stamp}; {len(newer)} service source files changed since"


def alternate(interpreter: str, runs: int, timed: Callable[[str], float]) -> list[Row]:
    timings: dict[str, list[float]] = {module: [] for module in MODULES}
    for _ in range(runs):
        for module in MODULES:
            timings[module].append(round(timed(module) * 1000, 1))
    return [Row(interpreter, module, values) for module, values in timings.items()]


def measure(runs: int = 5) -> dict[str, Any]:
    """The figures (JSON-ready): one row per interpreter and module."""
    started = time.perf_counter()
    rows = measure_venv(runs)
    artifact_rows, artifact_note = measure_artifact(runs)
    rows += artifact_rows
    return {
        "runs": runs,
        "what": "import statement only, fresh process each run, interpreter start-up excluded",
        "cpus": os.cpu_count(),
        "artifact": artifact_note,
        "rows": [{**asdict(row), "median_ms": row.median_ms} for row in rows],
        "handler_over_sdk": handler_over_sdk(rows),
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


def handler_over_sdk(rows: list[Row]) -> dict[str, float]:
    medians = {(row.interpreter, row.module): row.median_ms for row in rows}
    return {
        interpreter: round(medians[(interpreter, HANDLER)] / medians[(interpreter, SDK_ALONE)], 2)
        for interpreter, module in medians
        if module == HANDLER and (interpreter, SDK_ALONE) in medians
    }


def report_lines(figures: dict[str, Any]) -> list[str]:
    lines = [
        f"fresh processes, median of {figures['runs']} ({figures['what']})",
        f"{'interpreter':16} {'module':24} {'median ms':>10}  runs ms",
    ]
    for row in figures["rows"]:
        runs = ", ".join(f"{value:.0f}" for value in row["runs_ms"])
        lines.append(
            f"{row['interpreter']:16} {row['module']:24} {row['median_ms']:>10.0f}  {runs}"
        )
    for interpreter, ratio in figures["handler_over_sdk"].items():
        lines.append(f"handler / alpaca.trading.client alone, {interpreter}: {ratio:.2f}x")
    lines.append(figures["artifact"])
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per module")
    args = parser.parse_args()
    figures = measure(args.runs)
    print("\n".join(report_lines(figures)))
    print(f"figures: {write_figures('cold_import', figures)}")


if __name__ == "__main__":
    main()
