"""The report's charts as SVG text, drawn with matplotlib's object API (no pyplot, no display).

Why matplotlib, rendered to inline SVG: it is already the project's charting library (bench/),
it draws on this machine with no server, no browser and no network, and its SVG output with
text as paths depends on no font or script where it is opened. Inlined in the HTML page, the
charts need no file beside it, no CDN and no JavaScript (the JavaScript charting libraries
need one of those, or their whole bundle inlined); they print and stay sharp when zoomed.
Prices are Decimal in the ledger; they become floats here only to be drawn.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from plan_executor.domain.enums import OrderType, Side
from plan_executor.ops.report_figures import ChildSpan, ItemChart, QuotePoint, Span

_NO_METADATA: Final = {"Date": None, "Creator": None, "Format": None, "Type": None}
_HASH_SALT: Final = "plan-executor-report"
"""Fixed, so the same ledger gives the same page (matplotlib's SVG ids are salted hashes)."""
BID, ASK, MID, LIMIT, MARKET = "#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#9467bd"
_SIDE_COLOURS: Final = {Side.SELL: "#ff7f0e", Side.BUY: "#17becf"}
_PHASE_COLOUR: Final = "#bdbdbd"


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Times are drawn as seconds after `origin` (the attempt's start)."""

    origin: datetime

    def x(self, moments: Sequence[datetime]) -> list[float]:
        return [(moment - self.origin).total_seconds() for moment in moments]

    @property
    def label(self) -> str:
        return f"seconds after the attempt started ({self.origin.astimezone(UTC):%H:%M:%S} UTC)"


def item_chart_svg(chart: ItemChart, axis: TimeAxis) -> str:
    """Bid and ask over the item's window, each limit as a step line, fills as markers."""
    with rc_context({"svg.hashsalt": _HASH_SALT, "svg.fonttype": "path", "font.size": 9}):
        figure = Figure(figsize=(11, 3.6), layout="constrained")
        axes = figure.add_subplot()
        _draw_quotes(axes, axis, chart.quotes, chart.window.end)
        if chart.arrival_mid is not None:
            axes.axhline(float(chart.arrival_mid), color=MID, ls="--", lw=1, label="arrival mid")
        _draw_children(axes, axis, chart.children)
        _draw_fills(axes, axis, chart)
        _style_price_axes(axes, axis)
        return _svg(figure)


def timeline_svg(phases: Sequence[Span], items: Sequence[ItemChart], axis: TimeAxis) -> str:
    """The phases, then each traded item's working window, on one time axis."""
    rows = [(span.label, span, _PHASE_COLOUR) for span in phases]
    for chart in items:
        label = f"{chart.order.symbol} {chart.side.value}"
        rows.append((label, chart.window, _SIDE_COLOURS[chart.side]))
    with rc_context({"svg.hashsalt": _HASH_SALT, "svg.fonttype": "path", "font.size": 9}):
        figure = Figure(figsize=(11, 0.9 + 0.32 * len(rows)), layout="constrained")
        axes = figure.add_subplot()
        for index, (_, span, colour) in enumerate(rows):
            left, right = axis.x([span.start, span.end])
            width = right - left
            axes.barh(index, width, left=left, height=0.6, color=colour, edgecolor="#555555")
            seconds = (span.end - span.start).total_seconds()
            axes.annotate(f" {seconds:.1f} s", (left + width, index), va="center", fontsize=8)
        axes.set_yticks(range(len(rows)), [label for label, _, _ in rows])
        axes.invert_yaxis()
        axes.set_xlabel(axis.label)
        axes.grid(axis="x", alpha=0.3)
        return _svg(figure)


def _draw_quotes(axes: Axes, axis: TimeAxis, quotes: Sequence[QuotePoint], end: datetime) -> None:
    if not quotes:
        return
    times = axis.x([point.time for point in quotes] + [max(end, quotes[-1].time)])
    bids = [float(point.bid) for point in quotes] + [float(quotes[-1].bid)]
    asks = [float(point.ask) for point in quotes] + [float(quotes[-1].ask)]
    axes.step(times, asks, where="post", color=ASK, lw=1.2, label="ask")
    axes.step(times, bids, where="post", color=BID, lw=1.2, label="bid")
    axes.plot(times[:-1], asks[:-1], ".", color=ASK, ms=3)
    axes.plot(times[:-1], bids[:-1], ".", color=BID, ms=3)


def _draw_children(axes: Axes, axis: TimeAxis, children: Sequence[ChildSpan]) -> None:
    limits = [child for child in children if child.limit is not None]
    if limits:
        times = axis.x([child.start for child in limits] + [limits[-1].end])
        prices = [float(child.limit or 0) for child in limits]
        prices.append(prices[-1])
        axes.step(times, prices, where="post", color=LIMIT, lw=2, label="limit (child orders)")
    markets = [child for child in children if child.order_type is OrderType.MARKET]
    for index, child in enumerate(markets):
        label = "market order sent" if index == 0 else None
        axes.axvline(axis.x([child.start])[0], color=MARKET, ls=":", lw=1.5, label=label)


def _draw_fills(axes: Axes, axis: TimeAxis, chart: ItemChart) -> None:
    if not chart.fills:
        return
    marker = "v" if chart.side is Side.SELL else "^"
    axes.scatter(
        axis.x([fill.time for fill in chart.fills]),
        [float(fill.price) for fill in chart.fills],
        marker=marker,
        s=70,
        color="#000000",
        zorder=5,
        label="fill",
    )


def _style_price_axes(axes: Axes, axis: TimeAxis) -> None:
    axes.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    axes.set_xlabel(axis.label)
    axes.set_ylabel("$ per share")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _svg(figure: Figure) -> str:
    """The figure as an `<svg>` element to inline in HTML (the XML prolog dropped)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
