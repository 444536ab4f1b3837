"""The PNG of `make bench`: one panel per measurement of bench/out/report.json.

matplotlib's object API on the Agg canvas (no pyplot, no display, no global state).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TARGET_STYLE: dict[str, Any] = {"color": "tab:red", "linestyle": "--", "linewidth": 1}
BLUE, ORANGE, GREY, GREEN = "tab:blue", "tab:orange", "tab:gray", "tab:green"


def draw_chart(report: dict[str, Any], path: Path) -> None:
    figure = Figure(figsize=(16, 9.5), layout="constrained")
    FigureCanvasAgg(figure)
    stamp = f"{report['generated_at']}, {report['machine']['cpus']} CPUs"
    figure.suptitle(f"plan-executor performance report ({stamp})", fontsize=13)
    panels = figure.subplots(2, 3)
    for axes, (key, draw) in zip(panels.flat, PANELS.items(), strict=True):
        section = report["sections"].get(key, {})
        axes.set_title(section.get("title", key), fontsize=10)
        if section.get("figures") is None:
            message = f"{section.get('status', 'not run')}: {section.get('error', '')}"
            text = axes.text(0.5, 0.5, textwrap.fill(message[:400], 50), ha="center",
                             va="center", fontsize=8, color="tab:red")  # fmt: skip
            text.set_in_layout(False)
            axes.set_axis_off()
            continue
        draw(axes, section["figures"])
    figure.savefig(path, dpi=100)


def _label_bars(axes: Axes, bars: Any, fmt: str, *, inside: bool = False) -> None:
    labels = [fmt.format(bar.get_height()) for bar in bars]
    if inside:  # the dots of single runs sit on top of the bar
        axes.bar_label(bars, labels=labels, fontsize=8, label_type="center", color="white")
    else:
        axes.bar_label(bars, labels=labels, fontsize=8)


def _cold_import(axes: Axes, figures: dict[str, Any]) -> None:
    interpreters = list(dict.fromkeys(row["interpreter"] for row in figures["rows"]))
    width = 0.38
    for offset, (module, color) in enumerate(
        (("plan_executor.handler", BLUE), ("alpaca.trading.client", ORANGE))
    ):
        rows = {r["interpreter"]: r for r in figures["rows"] if r["module"] == module}
        xs = [index + (offset - 0.5) * width for index in range(len(interpreters))]
        medians = [rows[name]["median_ms"] for name in interpreters]
        bars = axes.bar(xs, medians, width, color=color, label=f"{module} (median)")
        _label_bars(axes, bars, "{:.0f}", inside=True)
        for x, name in zip(xs, interpreters, strict=True):
            runs = rows[name]["runs_ms"]
            axes.scatter([x] * len(runs), runs, color="black", s=8, zorder=3)
    axes.set_xticks(range(len(interpreters)), interpreters)
    axes.set_ylabel(f"import ms (dots: each of {figures['runs']} fresh processes)")
    axes.margins(y=0.2)
    axes.legend(fontsize=8, loc="upper left")


def _critical_path(axes: Axes, figures: dict[str, Any]) -> None:
    sizes = list(dict.fromkeys(row["items"] for row in figures["rows"]))
    starts = list(dict.fromkeys(row["threads"] for row in figures["rows"]))
    width = 0.8 / len(starts)
    for offset, start in enumerate(starts):
        rows = {r["items"]: r for r in figures["rows"] if r["threads"] == start}
        xs = [index + (offset - (len(starts) - 1) / 2) * width for index in range(len(sizes))]
        production = start == figures["production_threads"]
        label = f"HTTP threads started {start}" + (
            " (production)" if production else " (diagnostic)"
        )
        bars = axes.bar(
            xs, [rows[s]["ratio"] for s in sizes], width, label=label,
            color=BLUE if production else GREY,
        )  # fmt: skip
        _label_bars(axes, bars, "{:.2f}")
        for x, size in zip(xs, sizes, strict=True):
            runs = rows[size]["ratios"]
            axes.scatter([x] * len(runs), runs, color="black", s=8, zorder=3)
    axes.axhline(figures["target_ratio"], **TARGET_STYLE, label="target")
    axes.set_xticks(range(len(sizes)), [f"{size} items" for size in sizes])
    axes.set_ylabel(f"median wall / lower bound ({figures['lower_bound']}; dots: runs)")
    axes.margins(y=0.2)
    axes.legend(fontsize=8, loc="upper left")


def _broker_requests(axes: Axes, figures: dict[str, Any]) -> None:
    rows = figures["rows"]
    xs = range(len(rows))
    bars = axes.bar(
        [x - 0.2 for x in xs], [r["per_filled_order"] for r in rows], 0.4, color=BLUE,
        label="per filled order",
    )  # fmt: skip
    _label_bars(axes, bars, "{:.2f}")
    bars = axes.bar(
        [x + 0.2 for x in xs], [r["per_item"] for r in rows], 0.4, color=GREY, label="per item"
    )
    _label_bars(axes, bars, "{:.2f}")
    axes.axhline(figures["target"], **TARGET_STYLE, label="target (per filled order)")
    axes.set_xticks(list(xs), [f"{r['items']} items" for r in rows])
    axes.set_ylabel("broker requests")
    tallest = max(figures["target"], *(r["per_filled_order"] for r in rows))
    axes.set_ylim(0, tallest * 1.3)
    axes.legend(fontsize=8, loc="upper right", ncols=3)


def _execution_cost(axes: Axes, figures: dict[str, Any]) -> None:
    """Per variant and method, the notional-weighted cost with its 95 % interval where it is a
    comparison with market (the interval of the difference, drawn around the method's cost)."""
    colours = {"normal": BLUE, "opt-in": GREEN, "walk": GREY, "market": ORANGE}
    x, ticks, labels = 0.0, [], []
    for variant, found in figures["models"].items():
        methods = list(found["methods"])
        for offset, method in enumerate(methods):
            cost = found["methods"][method]["cost_bps"]
            axes.bar(x + offset, cost, color=colours.get(method, GREY), width=0.8)
            axes.text(x + offset, cost, f"{cost:.2f}", ha="center", va="bottom", fontsize=7)
            gap = found["vs_market"].get(method, {}).get("difference_bps")
            if gap is not None and gap["low"] is not None and not math.isnan(gap["low"]):
                low, high = cost - gap["value"] + gap["low"], cost - gap["value"] + gap["high"]
                axes.plot([x + offset] * 2, [low, high], color="black", linewidth=1)
            ticks.append(x + offset)
            labels.append(f"{method} ({variant})")
        x += len(methods) + 1
    axes.set_xticks(ticks, labels, fontsize=7, rotation=40, ha="right")
    axes.axhline(0, color="black", linewidth=0.5)
    axes.set_ylabel("cost vs arrival mid, bps (+ = worse)")
    live = figures["models"].get("live", {}).get("vs_market", {}).get("normal", {}).get("ratio")
    ratio = "n/a" if not live else f"{live['value']:.2f} [{live['low']:.2f}, {live['high']:.2f}]"
    axes.set_xlabel(
        f"live NORMAL / market = {ratio} (target <= 0.7); bars: 95 % of the gap to market",
        fontsize=8,
    )
    axes.margins(y=0.2)


def _peak_memory(axes: Axes, figures: dict[str, Any]) -> None:
    names = ["after imports", "peak (plan)", "sim process (apart)"]
    values = [figures["after_imports_mib"], figures["peak_mib"], figures["sim_process_peak_mib"]]
    bars = axes.barh(names, values, color=[GREY, BLUE, ORANGE])
    axes.bar_label(bars, labels=[f"{v:.0f} MiB" for v in values], fontsize=8)
    if figures.get("target_mib"):
        axes.axvline(figures["target_mib"], **TARGET_STYLE, label="target")
        axes.axvline(figures["lambda_memory_mb"], color="black", linewidth=1, label="MemorySize")
        axes.legend(fontsize=8, loc="lower right")
    axes.invert_yaxis()
    axes.set_xlabel(f"peak RSS, MiB ({figures['items']}-item URGENT plan)")


def _sim_throughput(axes: Axes, figures: dict[str, Any]) -> None:
    names = [row["name"].replace(" (", "\n(", 1) for row in figures["rows"]]
    values = [row["per_second"] for row in figures["rows"]]
    bars = axes.barh(names, values, color=BLUE)
    axes.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("requests per second")
    axes.margins(x=0.15)


PANELS: dict[str, Callable[[Axes, dict[str, Any]], None]] = {
    "cold_import": _cold_import,
    "critical_path": _critical_path,
    "broker_requests": _broker_requests,
    "execution_cost": _execution_cost,
    "peak_memory": _peak_memory,
    "sim_throughput": _sim_throughput,
}
