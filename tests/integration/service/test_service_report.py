"""`plan-executor report` on a ledger a real run wrote: the real handler ran the plan against
moto (server mode, over HTTP) and alpaca_sim; the command reads the ledger back from moto through
`AWS_ENDPOINT_URL` as it would from S3, prints the item table and writes the HTML page."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from service_support import (
    SimThread,
    current_event,
    fresh_handler,
    invoke,
    service_env,
    service_scenario,
    with_items,
)
from tests.support.aws_stack import AwsStack, LocalMotoServer, create_stack

from plan_executor import cli
from plan_executor.domain.ledger import MAX_QUOTES_PER_ORDER, CancelReason
from plan_executor.domain.results import ExecutionResult
from plan_executor.local.replay_format import order_table
from plan_executor.ops.report_source import LedgerRecord, Selection, find_result_key, load_record

PLAN = "mixed-sell-and-buy.json"
_CHART = re.compile(
    r'<figure class="item-chart" id="[^"]+" data-symbol="([^"]+)">\s*'
    r"<figcaption>[^<]+</figcaption>\s*<svg "
)
_SUMMARY_CELL = re.compile(r'<td data-field="([a-z_]+)"[^>]*>([^<]*)</td>')
_URL_ATTRIBUTE = re.compile(r"""\b(?:src|href|xlink:href|action|poster)\s*=\s*["']([^"']*)""")
_FETCHABLE_URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s\"'<>)]*", re.IGNORECASE)
_NAMESPACE = re.compile(r"""xmlns(?::\w+)?=["']([^"']+)["']""")


def _record(stack: AwsStack, result: dict[str, Any]) -> LedgerRecord:
    s3 = stack.client("s3")
    key = find_result_key(s3, stack.ledger_bucket, Selection(plan_id=result["plan_id"]))
    return load_record(s3, stack.ledger_bucket, key)


@dataclass(frozen=True)
class MixedRun:
    """One run of the mixed plan through the real handler, whose ledger the report reads."""

    stack: AwsStack
    raw: dict[str, Any]


@pytest.fixture(scope="module")
def mixed_run(moto_server: LocalMotoServer) -> Iterator[MixedRun]:
    """Run once for the tests that only read its ledger (each run costs seconds); the
    environment stays set while they use the CLI."""
    with (
        SimThread(service_scenario(datetime.now(UTC))) as sim,
        pytest.MonkeyPatch.context() as patch,
    ):
        stack = create_stack(moto_server.endpoint_url, name_prefix=f"pe-report-{os.getpid()}")
        for name, value in service_env(stack, sim).items():
            patch.setenv(name, value)
        yield MixedRun(stack, invoke(fresh_handler(), current_event(PLAN)))


def test_each_order_line_keeps_the_bounded_quotes_it_was_worked_against(
    mixed_run: MixedRun,
) -> None:
    record = _record(mixed_run.stack, mixed_run.raw)

    lines = record.order_lines
    repegged = {c.client_order_id for c in record.cancellations if c.reason is CancelReason.REPEG}
    assert repegged, "the walk re-pegged at least once in this plan"
    for line in lines:
        assert len(line.quotes) <= MAX_QUOTES_PER_ORDER
        assert all(Decimal(0) < q.bid <= q.ask for q in line.quotes), line.client_order_id
        assert [q.time for q in line.quotes] == sorted(q.time for q in line.quotes)
        if line.client_order_id in repegged:
            # A re-peg is decided from a quote read while the order worked: it is on the line.
            assert line.quotes, line.client_order_id


def test_the_report_shows_the_run_summary_and_one_chart_per_traded_item(
    mixed_run: MixedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = ExecutionResult.model_validate(mixed_run.raw)
    record = _record(mixed_run.stack, mixed_run.raw)
    capsys.readouterr()

    status = cli.main(["report", result.plan_id, "--html", str(tmp_path / "report.html")])

    printed = capsys.readouterr().out
    assert status == 0
    table = order_table(result.orders)
    assert all(row in printed for row in table), printed
    assert f"report: {tmp_path / 'report.html'}" in printed
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    traded = [order.symbol for order in result.orders if order.child_orders]
    assert len(traded) >= 6
    assert _CHART.findall(page) == traded
    for order in result.orders:
        if order.execution is not None:  # how each item was worked (docs/design.md 2.9)
            assert f"{order.execution.value}: {escape(order.execution_reason or '')}" in page
    summary = dict(_SUMMARY_CELL.findall(page))
    assert summary["status"] == result.status.value
    assert summary["shortfall"] == f"{result.summary.implementation_shortfall_bps:+.2f} bps"
    assert summary["orders"] == str(sum(len(order.child_orders) for order in result.orders))
    assert summary["repegs"] == str(result.summary.repegs) != "0"
    assert summary["cancels"] == str(len(record.cancellations))
    fills = sum(len(line.fills) for line in record.order_lines)
    assert summary["cancel_to_fill"] == f"{Decimal(len(record.cancellations)) / fills:.2f}"
    planned, filled = result.summary.planned_buy_notional, result.summary.filled_buy_notional
    assert summary["buy"].startswith(f"${filled.quantize(Decimal('0.01')):,f} of ${planned:,f}")
    assert all(escape(row) in page for row in table)
    assert '<figure id="timeline">\n<svg ' in page


def test_the_page_loads_nothing_from_outside_itself(mixed_run: MixedRun, tmp_path: Path) -> None:
    result = mixed_run.raw

    assert cli.main(["report", result["plan_id"], "--html", str(tmp_path / "r.html")]) == 0

    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count("<svg ") == 1 + len([o for o in result["orders"] if o["child_orders"]])
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url(http"):
        assert tag not in page.lower(), tag
    assert all(value.startswith("#") for value in _URL_ATTRIBUTE.findall(page))
    # Only XML namespace names are URLs in the page, and a namespace name is never fetched.
    assert set(_FETCHABLE_URL.findall(page)) <= set(_NAMESPACE.findall(page))


def test_report_finds_the_plan_by_id_latest_and_day_and_fails_on_an_unknown_plan(
    handler: ModuleType,
    sim: SimThread,
    aws_stack: AwsStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = current_event(PLAN)
    first = invoke(handler, with_items(event, "report-plan-first", "AAPL"))
    second = invoke(handler, with_items(event, "report-plan-second", "TSLA"))
    capsys.readouterr()

    assert cli.main(["report", "--latest"]) == 0
    assert f"attempt {second['attempt']}" in capsys.readouterr().out
    assert cli.main(["report", "report-plan-first", "--date", first["started_at"][:10]]) == 0
    assert f"attempt {first['attempt']}" in capsys.readouterr().out
    assert cli.main(["report", "report-plan-first", "--date", "2001-01-01"]) == 1
    assert "no ledger for plan report-plan-first on 2001-01-01" in capsys.readouterr().err
    assert cli.main(["report", "no-such-plan"]) == 1
    assert cli.main(["report", "report-plan-first", "--latest"]) == 2
