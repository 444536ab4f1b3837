"""One execution attempt's report as a self-contained HTML page and as the text `make run` prints.

The page holds everything it shows: CSS in a `<style>` element, charts as inline SVG
(report_charts.py), no script, no link, no image file, no font to fetch. Every value from the
ledger is escaped. The item table is replay's (local/replay_format.py), in a `<pre>`.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from html import escape
from pathlib import Path
from typing import Final

from plan_executor.cli_format import money
from plan_executor.domain.results import ExecutionResult
from plan_executor.local.replay_format import order_table, outcome_lines, totals_lines
from plan_executor.ops.report_charts import TimeAxis, item_chart_svg, timeline_svg
from plan_executor.ops.report_figures import (
    Headline,
    ItemChart,
    attempt_title,
    headline,
    item_charts,
    phase_spans,
)
from plan_executor.ops.report_source import LedgerRecord

_CENT: Final = Decimal("0.01")
_STYLE: Final = """
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1180px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; }
.sub, .note { color: #555; font-size: 13px; }
table.summary { border-collapse: collapse; font-size: 14px; }
table.summary th { text-align: left; padding: 4px 16px 4px 0; color: #555; font-weight: normal; }
table.summary td { padding: 4px 0; font-weight: bold; }
pre { background: #f6f6f6; padding: 12px; font-size: 12px; overflow-x: auto; }
figure { margin: 18px 0; } figcaption { font-weight: bold; margin-bottom: 4px; }
svg { max-width: 100%; height: auto; }
.status-SUCCESS { color: #1a7f37; } .status-FAILED, .status-TIMED_OUT { color: #c62828; }
"""


def text_lines(record: LedgerRecord) -> list[str]:
    """What `make run` prints for a run: the outcome, the item table and the totals."""
    result = record.result
    lines = [attempt_title(result), *outcome_lines(result, duplicate=False)]
    if result.orders:
        lines += ["", *order_table(result.orders), "", *totals_lines(result.summary)]
    return lines


def report_html(record: LedgerRecord) -> str:
    """The whole page."""
    result = record.result
    charts = item_charts(record)
    axis = TimeAxis(result.started_at)
    title = escape(f"Execution report: {attempt_title(result)}")
    body = [
        f"<h1>{title}</h1>",
        f'<p class="sub">{escape(_subtitle(result))}</p>',
        *_summary(result, headline(record)),
        '<h2>Items</h2><pre id="item-table">',
        escape("\n".join(text_lines(record)[1:])),
        "</pre>",
        *_timeline(record, charts, axis),
        *_item_sections(charts, axis),
        f'<p class="note">From s3://{escape(record.bucket)}/{escape(record.result_key)} and'
        f" {escape(record.orders_key.rsplit('/', 1)[-1])}.</p>",
    ]
    head = f'<meta charset="utf-8"><title>{title}</title><style>{_STYLE}</style>'
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head><body>\n'
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _subtitle(result: ExecutionResult) -> str:
    return (
        f"{result.trading_mode.value} trading, started {result.started_at.isoformat()},"
        f" completed {result.completed_at.isoformat()}"
    )


def _summary(result: ExecutionResult, figures: Headline) -> list[str]:
    shortfall = result.summary.implementation_shortfall_bps
    ratio = figures.cancel_to_fill
    rows = [
        ("status", "Status", result.status.value),
        ("reason", "Reason", result.reason or "-"),
        (
            "shortfall",
            "Implementation shortfall",
            "-" if shortfall is None else f"{shortfall:+.2f} bps",
        ),
        *(
            (
                f"{s.side.value}",
                f"{s.side.value.capitalize()}s filled",
                _filled(s.filled, s.planned),
            )
            for s in figures.sides
        ),
        ("duration", "Duration", f"{Decimal(result.duration_ms) / 1000:.1f} s"),
        ("orders", "Child orders", str(figures.orders)),
        ("fills", "Fills", str(figures.fills)),
        ("repegs", "Re-pegs", str(figures.repegs)),
        ("cancels", "Cancels asked for", str(figures.cancels)),
        ("cancel_to_fill", "Cancel-to-fill ratio", "-" if ratio is None else f"{ratio:.2f}"),
        ("market_fallbacks", "Market fallbacks", str(result.summary.market_fallbacks)),
    ]
    cells = [
        f'<tr><th>{escape(label)}</th><td data-field="{name}"'
        + (f' class="status-{escape(value)}"' if name == "status" else "")
        + f">{escape(value)}</td></tr>"
        for name, label, value in rows
    ]
    return ['<h2>Summary</h2><table class="summary" id="summary">', *cells, "</table>"]


def _filled(filled: Decimal, planned: Decimal) -> str:
    shown = f"${money(filled.quantize(_CENT, rounding=ROUND_HALF_EVEN))} of ${money(planned)}"
    if planned > 0:
        shown += f" ({filled / planned * 100:.1f} %)"
    return shown


def _timeline(record: LedgerRecord, charts: Sequence[ItemChart], axis: TimeAxis) -> list[str]:
    return [
        '<h2>Timeline</h2><figure id="timeline">',
        timeline_svg(phase_spans(record), charts, axis),
        '</figure><p class="note">Phases as the ledger\'s order times show them: sells from the'
        " first sell sent to the last one ended, buys likewise; the spans before, between and"
        " after are the guard rails and reconcile, settlement, and cleanup with the ledger.</p>",
    ]


def _item_sections(charts: Sequence[ItemChart], axis: TimeAxis) -> list[str]:
    lines = ["<h2>Per item</h2>"]
    if not charts:
        lines.append('<p class="note">No orders were sent.</p>')
    for chart in charts:
        order = chart.order
        anchor = escape(f"chart-{order.symbol}-{chart.side.value}")
        lines += [
            f'<figure class="item-chart" id="{anchor}" data-symbol="{escape(order.symbol)}">',
            f"<figcaption>{escape(_caption(chart))}</figcaption>",
            item_chart_svg(chart, axis),
            "</figure>",
        ]
    return lines


def _caption(chart: ItemChart) -> str:
    order = chart.order
    slippage = "-" if order.slippage_bps is None else f"{order.slippage_bps:+.2f} bps"
    caption = (
        f"{order.symbol} {chart.side.value}: {order.status.value}, filled"
        f" {_filled(order.filled_notional, order.planned_notional)}, slippage {slippage},"
        f" {len(chart.children)} child orders, {order.repegs} re-pegs"
    )
    if order.execution is None:
        return caption
    return f"{caption}; {order.execution.value}: {order.execution_reason}"


def write_report(record: LedgerRecord, path: Path) -> Path:
    """Write the page to `path` (its directory created); the absolute path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(record), encoding="utf-8")
    return path.resolve()
